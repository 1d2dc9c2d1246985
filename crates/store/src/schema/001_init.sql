-- Events: the source of truth and the audit trail.
CREATE TABLE events (
    position {serial},
    instance_id TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    creator TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX events_aggregate ON events (instance_id, aggregate_type, aggregate_id, seq);
CREATE INDEX events_type ON events (instance_id, event_type, position);
CREATE INDEX events_time ON events (instance_id, created_at);

-- Global settings of this installation (init marker, ...).
CREATE TABLE system_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    primary_domain TEXT NOT NULL DEFAULT '',
    default_org_id TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL
);

CREATE TABLE instance_domains (
    instance_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    is_primary BIGINT NOT NULL DEFAULT 0,
    is_generated BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (domain)
);
CREATE INDEX instance_domains_instance ON instance_domains (instance_id);

CREATE TABLE orgs (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    state BIGINT NOT NULL,
    primary_domain TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE UNIQUE INDEX orgs_name ON orgs (instance_id, name_lower);

CREATE TABLE org_domains (
    instance_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    is_verified BIGINT NOT NULL DEFAULT 0,
    is_primary BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (instance_id, org_id, domain)
);
CREATE UNIQUE INDEX org_domains_verified ON org_domains (instance_id, domain) WHERE is_verified = 1;

CREATE TABLE users (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    kind BIGINT NOT NULL,
    state BIGINT NOT NULL,
    username TEXT NOT NULL,
    -- lower(username), or lower(username) || '@' || org_id when usernames are unique per org
    login_key TEXT NOT NULL,
    login_name TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    nick_name TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    preferred_language TEXT NOT NULL DEFAULT '',
    gender BIGINT NOT NULL DEFAULT 0,
    email TEXT NOT NULL DEFAULT '',
    email_verified BIGINT NOT NULL DEFAULT 0,
    phone TEXT NOT NULL DEFAULT '',
    phone_verified BIGINT NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL DEFAULT '',
    password_change_required BIGINT NOT NULL DEFAULT 0,
    password_changed_at BIGINT NOT NULL DEFAULT 0,
    machine_name TEXT NOT NULL DEFAULT '',
    machine_description TEXT NOT NULL DEFAULT '',
    access_token_type BIGINT NOT NULL DEFAULT 0,
    secret_hash TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE UNIQUE INDEX users_login ON users (instance_id, login_key);
CREATE INDEX users_org_username ON users (instance_id, org_id, username{pattern});
CREATE INDEX users_username ON users (instance_id, username{pattern});
CREATE INDEX users_username_lower ON users (instance_id, lower(username){pattern});
CREATE INDEX users_email ON users (instance_id, email{pattern});
CREATE INDEX users_org_created ON users (instance_id, org_id, created_at);

-- Metadata of users and organisations (aggregate_id = user or org id).
CREATE TABLE metadata (
    instance_id TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value {blob} NOT NULL,
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, aggregate_id, key)
);

-- Manager memberships on every level; roles as a comma separated list.
CREATE TABLE members (
    instance_id TEXT NOT NULL,
    level TEXT NOT NULL,
    object_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    roles TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, level, object_id, user_id)
);
CREATE INDEX members_user ON members (instance_id, user_id);

CREATE TABLE pats (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    expiration BIGINT NOT NULL,
    scopes TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE UNIQUE INDEX pats_hash ON pats (token_hash);
CREATE INDEX pats_user ON pats (instance_id, user_id);

CREATE TABLE machine_keys (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    key_type BIGINT NOT NULL,
    expiration BIGINT NOT NULL,
    public_key TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX machine_keys_user ON machine_keys (instance_id, user_id);
