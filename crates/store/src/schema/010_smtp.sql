-- SMTP configurations of an instance. At most one is active (state 1; 2 = inactive, as
-- zitadel.settings.v1.SMTPConfigState). The password is sealed with the masterkey.
CREATE TABLE smtp_configs (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    description TEXT NOT NULL,
    sender_address TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    reply_to_address TEXT NOT NULL,
    tls BIGINT NOT NULL,
    host TEXT NOT NULL,
    smtp_user TEXT NOT NULL,
    password_sealed TEXT NOT NULL,
    state BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);

-- Secret generator settings that differ from the built-in defaults, per instance and type.
CREATE TABLE secret_generators (
    instance_id TEXT NOT NULL,
    generator_type BIGINT NOT NULL,
    length BIGINT NOT NULL,
    expiry_secs BIGINT NOT NULL,
    include_lower_letters BIGINT NOT NULL,
    include_upper_letters BIGINT NOT NULL,
    include_digits BIGINT NOT NULL,
    include_symbols BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, generator_type)
);
