-- Failed password checks since the last successful one (lockout policy). A read model column:
-- user.human.password.check.failed increments it, .succeeded, user.unlocked and
-- user.human.password.changed reset it.
ALTER TABLE users ADD COLUMN password_failures BIGINT NOT NULL DEFAULT 0;
