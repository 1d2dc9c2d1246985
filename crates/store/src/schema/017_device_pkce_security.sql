-- RFC 8628 3.5: each `slow_down` raises the device authorization's polling interval by 5 s for
-- every later poll. Seconds; 5 = castellan_oidc::device_authorization::INTERVAL.
ALTER TABLE oidc_device_authorizations ADD COLUMN poll_interval BIGINT NOT NULL DEFAULT 5;

-- OIDC settings extension: accept PKCE `plain` (off: only S256).
ALTER TABLE oidc_settings ADD COLUMN pkce_plain_allowed BIGINT NOT NULL DEFAULT 0;
