-- Orgs and their API keys. Every tenant table carries org_id (orgs: id) and is guarded by
-- row-level security with FORCE, keyed on the per-transaction setting app.org_id.

CREATE TABLE orgs (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  tier        text NOT NULL CHECK (tier IN ('soho', 'bank', 'zero_trust')),
  disabled    boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
ALTER TABLE orgs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON orgs
  USING (id = current_setting('app.org_id', true))
  WITH CHECK (id = current_setting('app.org_id', true));

CREATE TABLE api_keys (
  id              text PRIMARY KEY,
  org_id          text NOT NULL REFERENCES orgs (id),
  -- SHA-256 of the whole key; the key itself is never stored.
  key_hash        bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  display_prefix  text NOT NULL,
  label           text NOT NULL,
  environment     text NOT NULL CHECK (environment IN ('live', 'test')),
  roles           text[] NOT NULL DEFAULT '{}',
  products        text[] NOT NULL DEFAULT '{}',
  pat_key_id      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  revoked_at      timestamptz,
  last_used_at    timestamptz
);
CREATE INDEX api_keys_org ON api_keys (org_id, created_at);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

-- Authentication crosses tenants by nature: the key names its org. This function is the one
-- place that does it, as the schema owner, returning only what authentication needs. The
-- owner's read access is limited to this lookup by policies that apply to the owner alone.
CREATE POLICY owner_key_lookup ON api_keys FOR SELECT TO fortress_identity_owner USING (true);
CREATE POLICY owner_org_lookup ON orgs FOR SELECT TO fortress_identity_owner USING (true);

CREATE FUNCTION authenticate_key(p_hash bytea)
RETURNS TABLE (
  key_id text, org_id text, tier text, org_disabled boolean, roles text[], products text[],
  pat_key_id text, revoked boolean
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = identity, pg_temp AS $$
  SELECT k.id, k.org_id, o.tier, o.disabled, k.roles, k.products, k.pat_key_id,
         k.revoked_at IS NOT NULL
  FROM api_keys k JOIN orgs o ON o.id = k.org_id
  WHERE k.key_hash = p_hash
$$;
REVOKE ALL ON FUNCTION authenticate_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION authenticate_key(bytea) TO fortress_identity;

GRANT SELECT, INSERT, UPDATE ON orgs, api_keys TO fortress_identity;
