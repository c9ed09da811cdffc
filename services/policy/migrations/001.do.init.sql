-- The policy model per org (roles and their grants so far; toggles, conditional rules and
-- PAT limits come with the full model) and a version that changes with every edit.

CREATE TABLE roles (
  org_id       text NOT NULL,
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  -- [{ "resourceType": "model", "resourceId": "claude-…", "effect": "allow" }, …]
  grants       jsonb NOT NULL DEFAULT '[]',
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, name)
);

CREATE TABLE versions (
  org_id      text PRIMARY KEY,
  version     bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE roles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON roles
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

ALTER TABLE versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON versions
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON roles, versions TO fortress_policy;
