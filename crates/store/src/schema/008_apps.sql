-- Applications of projects (OIDC, API, SAML) and their keys.
CREATE TABLE apps (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    state BIGINT NOT NULL,
    -- 1 OIDC, 2 API, 3 SAML; 0 until the configuration event.
    kind BIGINT NOT NULL DEFAULT 0,
    client_id TEXT NOT NULL DEFAULT '',
    -- SHA-256 of the client secret (hex); empty when the auth method needs none.
    secret_hash TEXT NOT NULL DEFAULT '',
    -- The type's settings as JSON: OIDC settings, {"auth_method_type": n} or the SAML login.
    config TEXT NOT NULL DEFAULT '{}',
    entity_id TEXT NOT NULL DEFAULT '',
    metadata {blob},
    metadata_url TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX apps_project ON apps (instance_id, project_id);
CREATE UNIQUE INDEX apps_client_id ON apps (instance_id, client_id) WHERE client_id <> '';
CREATE UNIQUE INDEX apps_entity_id ON apps (instance_id, entity_id) WHERE entity_id <> '';

CREATE TABLE app_keys (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    key_type BIGINT NOT NULL,
    expiration BIGINT NOT NULL,
    public_key TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX app_keys_app ON app_keys (instance_id, app_id);
