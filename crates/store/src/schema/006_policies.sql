-- Policies: the instance default (org_id '') and organisation overrides of each kind, with the
-- settings as JSON (the shape is defined per kind in castellan_domain::policy).
CREATE TABLE policies (
    instance_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, org_id, kind)
);
