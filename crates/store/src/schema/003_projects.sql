-- Projects of organisations and their roles.
CREATE TABLE projects (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    state BIGINT NOT NULL,
    project_role_assertion BIGINT NOT NULL DEFAULT 0,
    project_role_check BIGINT NOT NULL DEFAULT 0,
    has_project_check BIGINT NOT NULL DEFAULT 0,
    private_labeling_setting BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE UNIQUE INDEX projects_org_name ON projects (instance_id, org_id, name_lower);

CREATE TABLE project_roles (
    instance_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    key TEXT NOT NULL,
    display_name TEXT NOT NULL,
    group_name TEXT NOT NULL DEFAULT '',
    org_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, project_id, key)
);
CREATE INDEX project_roles_org ON project_roles (instance_id, org_id);
