-- The org's members (the people who use MCP and PAT Fortress) and the outbox that carries each
-- change of a member to JetStream, where billing's seat ledger follows it. A change and its
-- event are written in one transaction, so the ledger misses nothing that was committed.
-- Same rules as 001: org_id on every table, row-level security with FORCE on app.org_id.

-- Shaped like a SCIM User: Fortress assigns the id; external_id is the user's IdP subject.
CREATE TABLE members (
  org_id        text NOT NULL REFERENCES orgs (id),
  id            text NOT NULL CHECK (id ~ '^mbr_[A-Za-z0-9]+$'),
  external_id   text CHECK (external_id <> '' AND length(external_id) <= 256),
  email         text NOT NULL DEFAULT '' CHECK (length(email) <= 320),
  display_name  text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
  products      text[] NOT NULL DEFAULT '{}' CHECK (products <@ ARRAY['mcp', 'pat']),
  active        boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (org_id, id),
  UNIQUE (org_id, external_id)
);
ALTER TABLE members ENABLE ROW LEVEL SECURITY;
ALTER TABLE members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON members
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

-- Change events (fortress.events.v1.EventEnvelope, binary) not yet acknowledged by JetStream.
CREATE TABLE member_outbox (
  seq       bigserial PRIMARY KEY,
  org_id    text NOT NULL REFERENCES orgs (id),
  envelope  bytea NOT NULL
);
CREATE INDEX member_outbox_org ON member_outbox (org_id, seq);
ALTER TABLE member_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE member_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON member_outbox
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

-- The relay's sweep (after a crash between commit and publish) must find the orgs with events
-- waiting; this definer function tells it which, and nothing else.
CREATE POLICY owner_outbox_orgs ON member_outbox FOR SELECT TO fortress_identity_owner USING (true);
CREATE FUNCTION member_outbox_orgs(p_limit integer)
  RETURNS TABLE (org_id text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = identity, pg_temp AS $$
  SELECT DISTINCT o.org_id FROM member_outbox o ORDER BY o.org_id LIMIT p_limit
$$;
REVOKE ALL ON FUNCTION member_outbox_orgs(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION member_outbox_orgs(integer) TO fortress_identity;

GRANT SELECT, INSERT, UPDATE, DELETE ON members TO fortress_identity;
GRANT SELECT, INSERT, DELETE ON member_outbox TO fortress_identity;
GRANT USAGE ON SEQUENCE member_outbox_seq_seq TO fortress_identity;
