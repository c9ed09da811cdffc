-- The whole three-layer model of an org as one versioned document: every edit reads it under a
-- row lock, validates the result as Cedar, and writes the next version in one transaction.
-- Replaces the roles/versions tables of 001 (their content moves into the document).

CREATE TABLE models (
  org_id      text PRIMARY KEY,
  version     bigint NOT NULL CHECK (version >= 0),
  -- { roles, toggles, rules, patLimits, redaction } (see services/policy/src/domain/model.ts)
  model       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  text NOT NULL DEFAULT ''
);

ALTER TABLE models ENABLE ROW LEVEL SECURITY;
ALTER TABLE models FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON models
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

-- Migrations run as the owner, which RLS binds too: let this one move every org's rows.
ALTER TABLE roles NO FORCE ROW LEVEL SECURITY;
ALTER TABLE versions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE models NO FORCE ROW LEVEL SECURITY;
INSERT INTO models (org_id, version, model)
SELECT v.org_id, v.version + 1, jsonb_build_object(
  'roles', coalesce((SELECT jsonb_agg(jsonb_build_object('name', r.name, 'description', r.description, 'grants', r.grants) ORDER BY r.name)
                     FROM roles r WHERE r.org_id = v.org_id), '[]'::jsonb),
  'toggles', '[]'::jsonb, 'rules', '[]'::jsonb, 'patLimits', '[]'::jsonb, 'redaction', '{}'::jsonb)
FROM versions v;
ALTER TABLE models FORCE ROW LEVEL SECURITY;

DROP TABLE roles;
DROP TABLE versions;

GRANT SELECT, INSERT, UPDATE ON models TO fortress_policy;
