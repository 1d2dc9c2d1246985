-- Failed password checks per key (a client address or a user of an instance) and minute,
-- shared by every node: the login's rate limits hold for the cluster, not per node.
CREATE TABLE login_rate_limits (
    key TEXT NOT NULL,
    minute BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (key, minute)
);
-- Past minutes are deleted now and then.
CREATE INDEX login_rate_limits_minute ON login_rate_limits (minute);
