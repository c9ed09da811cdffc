-- Org keys issued for a PAT key are pinned to the version of its Anthropic key that was
-- current when they were issued (0: follow the current version). After a rotation, pinned keys
-- keep serving through the previous version until its overlap ends, then stop.

ALTER TABLE api_keys ADD COLUMN pat_key_version integer NOT NULL DEFAULT 0
  CHECK (pat_key_version >= 0);

DROP FUNCTION authenticate_key(bytea);
CREATE FUNCTION authenticate_key(p_hash bytea)
RETURNS TABLE (
  key_id text, org_id text, tier text, org_disabled boolean, roles text[], products text[],
  pat_key_id text, revoked boolean, pat_key_version integer
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = identity, pg_temp AS $$
  SELECT k.id, k.org_id, o.tier, o.disabled, k.roles, k.products, k.pat_key_id,
         k.revoked_at IS NOT NULL, k.pat_key_version
  FROM api_keys k JOIN orgs o ON o.id = k.org_id
  WHERE k.key_hash = p_hash
$$;
REVOKE ALL ON FUNCTION authenticate_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION authenticate_key(bytea) TO fortress_identity;
