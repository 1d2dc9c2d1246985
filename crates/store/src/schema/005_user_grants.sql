-- User grants: the roles a user holds on a project, given directly by the project's
-- organisation or through a project grant by the organisation that received it.
CREATE TABLE user_grants (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    -- Empty for a grant on a project of the owning organisation.
    project_grant_id TEXT NOT NULL,
    -- The organisation owning the grant (resource owner).
    org_id TEXT NOT NULL,
    -- The role keys in the order given, as a JSON array.
    role_keys TEXT NOT NULL,
    state BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE UNIQUE INDEX user_grants_user_project ON user_grants (instance_id, user_id, project_id, project_grant_id);
CREATE INDEX user_grants_org ON user_grants (instance_id, org_id);
CREATE INDEX user_grants_project ON user_grants (instance_id, project_id);
CREATE INDEX user_grants_project_grant ON user_grants (instance_id, project_grant_id);

-- One row per role key of a user grant, for searches and cascades by role.
CREATE TABLE user_grant_roles (
    instance_id TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    project_grant_id TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (instance_id, grant_id, key)
);
CREATE INDEX user_grant_roles_project ON user_grant_roles (instance_id, project_id, key);
CREATE INDEX user_grant_roles_project_grant ON user_grant_roles (instance_id, project_grant_id, key);
