-- Tamper evidence: a hash chain per org, signed checkpoints, and retention that deletes old
-- rows only through one controlled door.
--
-- Every row gets its org's next sequence number (no gaps) and
--   hash = SHA-256(previous hash || canonical bytes of the row)
-- computed by the writer (services/audit/src/domain/chain.ts; 32 zero bytes before the first
-- row). chain_v says which canonical encoding: 1 = canonical JSON computed by the service,
-- 0 = the jsonb text PostgreSQL prints for the same fields (used only to seal rows written
-- before this migration, below; the verifier reads that text back the same way).

ALTER TABLE events
  ADD COLUMN org_seq bigint,
  ADD COLUMN hash bytea,
  ADD COLUMN chain_v smallint NOT NULL DEFAULT 1 CHECK (chain_v IN (0, 1));

-- The head of each org's chain: the writer locks it FOR UPDATE in every insert transaction,
-- which serialises appends per org however many audit replicas consume the stream.
CREATE TABLE chain_heads (
  org_id          text PRIMARY KEY,
  seq             bigint NOT NULL CHECK (seq >= 0),
  hash            bytea NOT NULL CHECK (octet_length(hash) = 32),
  -- The last periodic checkpoint, to decide when the next one is due.
  checkpoint_seq  bigint NOT NULL DEFAULT 0,
  checkpoint_at   timestamptz NOT NULL DEFAULT now()
);

-- Signed statements of (org, seq, head hash, time). The same bytes are written to the object
-- store first, so rewriting rows and this table together is still caught.
CREATE TABLE checkpoints (
  org_id      text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('periodic', 'retention')),
  seq         bigint NOT NULL CHECK (seq >= 0),
  head_hash   bytea NOT NULL CHECK (octet_length(head_hash) = 32),
  signed_at   timestamptz NOT NULL,
  key_id      text NOT NULL,
  -- The exact signed bytes (canonical JSON of the fields above) and the Ed25519 signature.
  statement   text NOT NULL,
  signature   bytea NOT NULL,
  PRIMARY KEY (org_id, kind, seq)
);

-- An org's retention follows its tier; no row means the 90-day default.
CREATE TABLE retention_policies (
  org_id      text PRIMARY KEY,
  tier        text NOT NULL CHECK (tier IN ('soho', 'bank', 'zero_trust')),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();

-- Seal the rows written before the chain existed, oldest first per org, so nothing recorded
-- is left outside it. The owner is subject to FORCE'd RLS on events, so lift it for this step
-- only (the new tables get theirs below).
ALTER TABLE events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE events DISABLE TRIGGER events_append_only;
DO $$
DECLARE
  r record;
  cur_org text;
  prev bytea;
  n bigint;
  genesis constant bytea := decode(repeat('00', 32), 'hex');
BEGIN
  FOR r IN SELECT seq, org_id FROM events ORDER BY org_id, seq LOOP
    IF cur_org IS DISTINCT FROM r.org_id THEN
      IF cur_org IS NOT NULL THEN
        INSERT INTO chain_heads (org_id, seq, hash) VALUES (cur_org, n, prev);
      END IF;
      cur_org := r.org_id;
      prev := genesis;
      n := 0;
    END IF;
    n := n + 1;
    UPDATE events SET org_seq = n, chain_v = 0 WHERE seq = r.seq;
    -- Keep this expression identical to LEGACY_CANONICAL_SQL in
    -- services/audit/src/adapters/pg/chain-reader.ts.
    SELECT sha256(prev || convert_to(jsonb_build_object(
        'v', 0, 'org_id', e.org_id, 'org_seq', e.org_seq::text, 'event_id', e.event_id::text,
        'kind', e.kind,
        'occurred_at_us', (extract(epoch FROM e.occurred_at) * 1000000)::bigint::text,
        'recorded_at_us', (extract(epoch FROM e.recorded_at) * 1000000)::bigint::text,
        'source', e.source, 'product', e.product, 'actor', e.actor, 'action', e.action,
        'resource', e.resource, 'decision', e.decision, 'reasons', e.reasons,
        'latency_us', e.latency_us::text, 'status_code', e.status_code::text,
        'request_id', e.request_id, 'trace_id', e.trace_id, 'event', e.event)::text, 'UTF8'))
      INTO prev FROM events e WHERE e.seq = r.seq;
    UPDATE events SET hash = prev WHERE seq = r.seq;
  END LOOP;
  IF cur_org IS NOT NULL THEN
    INSERT INTO chain_heads (org_id, seq, hash) VALUES (cur_org, n, prev);
  END IF;
END $$;
ALTER TABLE events ENABLE TRIGGER events_append_only;
ALTER TABLE events FORCE ROW LEVEL SECURITY;

-- Row-level security on the new tables (after the seal, which writes chain heads as the
-- owner).
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['chain_heads', 'checkpoints', 'retention_policies'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
      USING (org_id = current_setting('app.org_id', true))
      WITH CHECK (org_id = current_setting('app.org_id', true))$p$, t);
  END LOOP;
END $$;

-- The owner (NOLOGIN: reachable only through the SECURITY DEFINER functions below) may list
-- which orgs have a chain, to schedule checkpoints and retention; it sees ids and counters only.
CREATE POLICY maintenance_scan ON chain_heads FOR SELECT TO fortress_audit_owner USING (true);

ALTER TABLE events
  ALTER COLUMN org_seq SET NOT NULL,
  ALTER COLUMN hash SET NOT NULL,
  ADD CONSTRAINT events_hash_length CHECK (octet_length(hash) = 32),
  ADD CONSTRAINT events_org_seq_unique UNIQUE (org_id, org_seq);
-- The whole event is kept as json (its text) rather than jsonb: the writer stores the event's
-- canonical text, which is what it hashed, and PostgreSQL spends no time building jsonb for a
-- column nobody queries into (the flat columns are there for that). Rows sealed above verify
-- the same: their canonical text rebuilds jsonb from this json.
ALTER TABLE events ALTER COLUMN event TYPE json USING event::json;

-- Reads go by chain position now (queries, exports, verification, retention): the unique
-- (org_id, org_seq) index serves them all, and the old (org_id, seq) index is one index fewer
-- to maintain on every insert.
DROP INDEX events_org_seq;

-- Append-only for everyone, with one door: the owner may delete a prefix of one org's chain
-- while apply_retention (below) has named that org and the last sequence to delete, after
-- recording the signed retention checkpoint. The runtime role has no DELETE privilege at all.
CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Nested: OLD.org_seq exists on events only (checkpoints share this function).
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'events' THEN
    IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
       AND OLD.org_id = current_setting('fortress.retention_org', true)
       AND OLD.org_seq <= NULLIF(current_setting('fortress.retention_upto', true), '')::bigint THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

-- How long an org's rows are kept.
CREATE FUNCTION retention_period(p_org text) RETURNS interval
LANGUAGE sql STABLE SET search_path = audit, pg_temp AS $$
  SELECT COALESCE(
    (SELECT CASE tier WHEN 'bank' THEN interval '1 year'
                      WHEN 'zero_trust' THEN interval '7 years'
                      ELSE interval '90 days' END
       FROM retention_policies WHERE org_id = p_org),
    interval '90 days')
$$;

-- Records the signed retention checkpoint (seq and hash of the last row to delete), then
-- deletes that org's rows up to it. Refuses unless the caller's tenant is that org, the anchor
-- is the stored hash at that position, and every row up to it is past the org's retention.
CREATE FUNCTION apply_retention(
  p_org text, p_upto bigint, p_hash bytea, p_signed_at timestamptz, p_key_id text,
  p_statement text, p_signature bytea
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = audit, pg_temp AS $$
DECLARE
  deleted bigint;
BEGIN
  IF p_org IS DISTINCT FROM current_setting('app.org_id', true) THEN
    RAISE EXCEPTION 'retention for "%" outside its tenant', p_org USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM events WHERE org_id = p_org AND org_seq = p_upto AND hash = p_hash) THEN
    RAISE EXCEPTION 'retention anchor % is not the chain''s hash at that position', p_upto
      USING ERRCODE = 'check_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM events WHERE org_id = p_org AND org_seq <= p_upto
                AND recorded_at >= now() - retention_period(p_org)) THEN
    RAISE EXCEPTION 'rows up to % are not all past retention', p_upto USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO checkpoints (org_id, kind, seq, head_hash, signed_at, key_id, statement, signature)
    VALUES (p_org, 'retention', p_upto, p_hash, p_signed_at, p_key_id, p_statement, p_signature);
  PERFORM set_config('fortress.retention_org', p_org, true);
  PERFORM set_config('fortress.retention_upto', p_upto::text, true);
  DELETE FROM events WHERE org_id = p_org AND org_seq <= p_upto;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  PERFORM set_config('fortress.retention_org', '', true);
  PERFORM set_config('fortress.retention_upto', '', true);
  RETURN deleted;
END $$;

-- Orgs whose chain has grown by `p_every` rows, or has unsigned rows older than `p_after`,
-- since their last periodic checkpoint. Ids only.
CREATE FUNCTION orgs_due_for_checkpoint(p_every bigint, p_after interval) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = audit, pg_temp AS $$
  SELECT org_id FROM chain_heads
   WHERE seq > checkpoint_seq
     AND (seq - checkpoint_seq >= p_every OR checkpoint_at <= now() - p_after)
   ORDER BY org_id
$$;

-- Every org with a chain (for the retention job). Ids only.
CREATE FUNCTION chained_orgs() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = audit, pg_temp AS $$
  SELECT org_id FROM chain_heads ORDER BY org_id
$$;

REVOKE ALL ON FUNCTION apply_retention(text, bigint, bytea, timestamptz, text, text, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION orgs_due_for_checkpoint(bigint, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION chained_orgs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION apply_retention(text, bigint, bytea, timestamptz, text, text, bytea) TO fortress_audit;
GRANT EXECUTE ON FUNCTION orgs_due_for_checkpoint(bigint, interval) TO fortress_audit;
GRANT EXECUTE ON FUNCTION chained_orgs() TO fortress_audit;
GRANT EXECUTE ON FUNCTION retention_period(text) TO fortress_audit;

GRANT SELECT, INSERT, UPDATE ON chain_heads TO fortress_audit;
GRANT SELECT, INSERT ON checkpoints TO fortress_audit;
GRANT SELECT, INSERT, UPDATE ON retention_policies TO fortress_audit;
