-- Projects shared with other organisations (project grants) and the role keys handed over.
CREATE TABLE project_grants (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    -- The granting organisation (owner of the project).
    org_id TEXT NOT NULL,
    granted_org_id TEXT NOT NULL,
    -- The granted role keys in the order given, as a JSON array.
    role_keys TEXT NOT NULL,
    state BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE UNIQUE INDEX project_grants_project_org ON project_grants (instance_id, project_id, granted_org_id);
CREATE INDEX project_grants_granted_org ON project_grants (instance_id, granted_org_id);
CREATE INDEX project_grants_org ON project_grants (instance_id, org_id);

-- One row per granted role key, for searching grants by role.
CREATE TABLE project_grant_roles (
    instance_id TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (instance_id, grant_id, key)
);
CREATE INDEX project_grant_roles_project ON project_grant_roles (instance_id, project_id, key);
