-- Failed password checks since the last successful one (lockout policy). A read model column:
-- user.human.password.check.failed increments it, .succeeded, user.unlocked and
-- user.human.password.changed reset it.
ALTER TABLE users ADD COLUMN password_failures BIGINT NOT NULL DEFAULT 0;

-- Back-channel logout finds the clients of an ended session through its requests and refresh
-- tokens.
CREATE INDEX oidc_auth_requests_session ON oidc_auth_requests (instance_id, session_id);
CREATE INDEX oidc_refresh_tokens_session ON oidc_refresh_tokens (instance_id, session_id);
