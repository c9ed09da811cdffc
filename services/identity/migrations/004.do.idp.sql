-- Identity providers of Bank and Zero Trust orgs, and the Fortress tokens (fk_tok_…) their
-- users get in exchange for an org key plus an IdP token. Same rules as 001: every table
-- carries org_id and is guarded by row-level security with FORCE, keyed on app.org_id.

CREATE TABLE idp_configs (
  org_id            text PRIMARY KEY REFERENCES orgs (id),
  issuer            text NOT NULL CHECK (issuer ~ '^https?://'),
  audiences         text[] NOT NULL CHECK (cardinality(audiences) BETWEEN 1 AND 10),
  jwks_uri          text NOT NULL CHECK (jwks_uri ~ '^https?://'),
  -- Asymmetric signatures only: never "none", never HMAC (whose key would be public).
  algorithms        text[] NOT NULL CHECK (
                      cardinality(algorithms) > 0 AND algorithms <@ ARRAY[
                        'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
                        'ES256', 'ES384', 'ES512', 'EdDSA'
                      ]
                    ),
  user_id_claim     text NOT NULL,
  email_claims      text[] NOT NULL,
  device_id_claim   text NOT NULL,
  attribute_claims  text[] NOT NULL DEFAULT '{}',
  -- '' when groups grant no roles.
  groups_claim      text NOT NULL DEFAULT '',
  -- {"<group>": ["<role>", …], …}
  group_roles       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(group_roles) = 'object'),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE idp_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE idp_configs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idp_configs
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

-- A token stands for one user of one org key: the key's state (revoked, roles, PAT key) is
-- read at each use, so revoking the key ends its tokens at once; the user's claims are kept
-- as the IdP asserted them at the exchange.
CREATE TABLE exchanged_tokens (
  -- SHA-256 of the whole token; the token itself is never stored.
  token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  org_id       text NOT NULL REFERENCES orgs (id),
  api_key_id   text NOT NULL REFERENCES api_keys (id),
  user_id      text NOT NULL CHECK (user_id <> ''),
  email        text NOT NULL DEFAULT '',
  device_id    text NOT NULL DEFAULT '',
  attributes   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
  -- Roles the user's groups granted at the exchange (the key's own roles are added at use).
  group_roles  text[] NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL CHECK (expires_at > created_at)
);
CREATE INDEX exchanged_tokens_expiry ON exchanged_tokens (org_id, expires_at);
ALTER TABLE exchanged_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE exchanged_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON exchanged_tokens
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

-- As in 001, the definer functions below are the only reads across tenants: a key or token
-- names its org, and they return only what authentication needs.
CREATE POLICY owner_idp_lookup ON idp_configs FOR SELECT TO fortress_identity_owner USING (true);
CREATE POLICY owner_token_lookup ON exchanged_tokens
  FOR SELECT TO fortress_identity_owner USING (true);

-- The key lookup also returns the org's IdP configuration (NULL when it has none), so a
-- Bank or Zero Trust request still costs one query before its token is verified.
DROP FUNCTION authenticate_key(bytea);
CREATE FUNCTION authenticate_key(p_hash bytea)
RETURNS TABLE (
  key_id text, org_id text, tier text, org_disabled boolean, roles text[], products text[],
  pat_key_id text, revoked boolean, pat_key_version integer, idp jsonb
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = identity, pg_temp AS $$
  SELECT k.id, k.org_id, o.tier, o.disabled, k.roles, k.products, k.pat_key_id,
         k.revoked_at IS NOT NULL, k.pat_key_version,
         (SELECT to_jsonb(c) - 'org_id' FROM idp_configs c WHERE c.org_id = k.org_id)
  FROM api_keys k JOIN orgs o ON o.id = k.org_id
  WHERE k.key_hash = p_hash
$$;
REVOKE ALL ON FUNCTION authenticate_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION authenticate_key(bytea) TO fortress_identity;

CREATE FUNCTION authenticate_exchanged_token(p_hash bytea)
RETURNS TABLE (
  key_id text, org_id text, tier text, org_disabled boolean, roles text[], products text[],
  pat_key_id text, revoked boolean, pat_key_version integer,
  user_id text, email text, device_id text, attributes jsonb, group_roles text[],
  expires_at timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = identity, pg_temp AS $$
  SELECT k.id, k.org_id, o.tier, o.disabled, k.roles, k.products, k.pat_key_id,
         k.revoked_at IS NOT NULL, k.pat_key_version,
         t.user_id, t.email, t.device_id, t.attributes, t.group_roles, t.expires_at
  FROM exchanged_tokens t
  JOIN api_keys k ON k.id = t.api_key_id AND k.org_id = t.org_id
  JOIN orgs o ON o.id = t.org_id
  WHERE t.token_hash = p_hash
$$;
REVOKE ALL ON FUNCTION authenticate_exchanged_token(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION authenticate_exchanged_token(bytea) TO fortress_identity;

GRANT SELECT, INSERT, UPDATE ON idp_configs TO fortress_identity;
GRANT SELECT, INSERT, DELETE ON exchanged_tokens TO fortress_identity;
