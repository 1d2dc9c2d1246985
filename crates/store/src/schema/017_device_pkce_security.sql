-- RFC 8628 3.5: each `slow_down` raises the device authorization's polling interval by 5 s for
-- every later poll. Seconds; 5 = castellan_oidc::device_authorization::INTERVAL.
ALTER TABLE oidc_device_authorizations ADD COLUMN poll_interval BIGINT NOT NULL DEFAULT 5;

-- OIDC settings extension: accept PKCE `plain` (off: only S256).
ALTER TABLE oidc_settings ADD COLUMN pkce_plain_allowed BIGINT NOT NULL DEFAULT 0;

-- The instance's security policy (admin Get/SetSecurityPolicy). No row: everything off.
-- allowed_origins is a JSON array of origins.
CREATE TABLE security_policies (
    instance_id TEXT NOT NULL PRIMARY KEY,
    enable_iframe_embedding BIGINT NOT NULL,
    allowed_origins TEXT NOT NULL,
    enable_impersonation BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
