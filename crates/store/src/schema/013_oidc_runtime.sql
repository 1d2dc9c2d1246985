-- Runtime state of the OpenID provider and the hosted login. These tables are not read models:
-- they are not derived from events (a rebuild keeps them), and removing the instance removes
-- them (migrate::RUNTIME_TABLES). Secrets (codes, refresh tokens, device codes) are stored as
-- SHA-256 hex, never in clear. Times are µs since the epoch; 0 means "not yet / never".

-- One row per user signed in on one browser (user agent). A browser holds several of them
-- ("user selection"); the browser is known by the id in its session cookie. `id` is the `sid`
-- of the tokens issued from it.
CREATE TABLE login_sessions (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_agent_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    password_checked_at BIGINT NOT NULL DEFAULT 0,
    mfa_checked_at BIGINT NOT NULL DEFAULT 0,
    -- Space-separated `amr` values of the checks made.
    amr TEXT NOT NULL DEFAULT '',
    terminated_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX login_sessions_agent ON login_sessions (instance_id, user_agent_id);
CREATE INDEX login_sessions_user ON login_sessions (instance_id, user_id);

-- Authorization requests (`/oauth/v2/authorize`) from creation through login to the code.
-- `user_id`/`session_id`/`auth_time`/`amr` are set when the login completes; `code_hash` when
-- the code is issued; `code_used_at` when it is redeemed (a second redemption revokes the
-- grant: every token carries the request id as its grant id).
CREATE TABLE oidc_auth_requests (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    response_type TEXT NOT NULL,
    response_mode TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT '',
    nonce TEXT NOT NULL DEFAULT '',
    code_challenge TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    prompt TEXT NOT NULL DEFAULT '',
    -- -1: no max_age.
    max_age BIGINT NOT NULL DEFAULT -1,
    login_hint TEXT NOT NULL DEFAULT '',
    ui_locales TEXT NOT NULL DEFAULT '',
    acr_values TEXT NOT NULL DEFAULT '',
    -- Subject of a valid id_token_hint.
    hint_user_id TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    user_id TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    auth_time BIGINT NOT NULL DEFAULT 0,
    amr TEXT NOT NULL DEFAULT '',
    code_hash TEXT,
    code_expires_at BIGINT NOT NULL DEFAULT 0,
    code_used_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (instance_id, id)
);
CREATE UNIQUE INDEX oidc_auth_requests_code ON oidc_auth_requests (instance_id, code_hash);
CREATE INDEX oidc_auth_requests_expiry ON oidc_auth_requests (expires_at);

-- Refresh tokens. Each refresh rotates: the presented token gets `used_at`, a new one of the
-- same family is issued. Presenting a used token revokes the family (its id goes into
-- oidc_revocations, which also ends the family's access tokens).
CREATE TABLE oidc_refresh_tokens (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    session_id TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL,
    audience TEXT NOT NULL,
    auth_time BIGINT NOT NULL DEFAULT 0,
    amr TEXT NOT NULL DEFAULT '',
    -- JSON of the RFC 8693 `act` claim, or ''.
    actor TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (instance_id, id)
);
CREATE UNIQUE INDEX oidc_refresh_tokens_hash ON oidc_refresh_tokens (instance_id, token_hash);
CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (instance_id, family_id);
CREATE INDEX oidc_refresh_tokens_user ON oidc_refresh_tokens (instance_id, user_id);

-- Revoked token ids, grant ids (auth request or refresh family) and session ids. A row can be
-- forgotten once `expires_at` (the longest life of any token it revokes) has passed.
CREATE TABLE oidc_revocations (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX oidc_revocations_expiry ON oidc_revocations (expires_at);

-- Device authorization grants (RFC 8628): `state` is pending, approved, denied or consumed.
CREATE TABLE oidc_device_authorizations (
    instance_id TEXT NOT NULL,
    device_code_hash TEXT NOT NULL,
    user_code TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_poll_at BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending',
    user_id TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    auth_time BIGINT NOT NULL DEFAULT 0,
    amr TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (instance_id, device_code_hash)
);
CREATE UNIQUE INDEX oidc_device_user_code ON oidc_device_authorizations (instance_id, user_code);
