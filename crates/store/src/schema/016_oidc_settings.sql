-- The instance's OIDC settings (admin API Add/Update/GetOIDCSettings): lifetimes in seconds and
-- Castellan's extensions. No row: the defaults (castellan_domain::oidc_settings).
CREATE TABLE oidc_settings (
    instance_id TEXT NOT NULL PRIMARY KEY,
    access_token_lifetime BIGINT NOT NULL,
    id_token_lifetime BIGINT NOT NULL,
    refresh_token_idle_expiration BIGINT NOT NULL,
    refresh_token_expiration BIGINT NOT NULL,
    flat_roles_claim BIGINT NOT NULL DEFAULT 0,
    token_exchange_enabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
