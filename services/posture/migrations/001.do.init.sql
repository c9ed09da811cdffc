-- Device registry and MDM provider configuration, per org, under row-level security.

CREATE TABLE providers (
  org_id          text NOT NULL,
  provider        text NOT NULL CHECK (provider IN ('intune', 'jamf', 'workspace_one', 'google_endpoint')),
  endpoint        text NOT NULL,
  -- Reference to the provider credential in the vault; never the secret.
  credential_ref  text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, provider)
);

-- The latest verdict per device; a verdict is trusted until valid_until (15 minutes).
CREATE TABLE devices (
  org_id           text NOT NULL,
  device_id        text NOT NULL,
  user_id          text,
  os               text,
  provider         text,
  compliant        boolean NOT NULL,
  reason           text,
  checks           jsonb NOT NULL DEFAULT '[]',
  last_checked_at  timestamptz NOT NULL,
  valid_until      timestamptz NOT NULL,
  PRIMARY KEY (org_id, device_id)
);

ALTER TABLE providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE providers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON providers
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE devices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON devices
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON providers, devices TO fortress_posture;
