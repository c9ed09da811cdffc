-- Continuous export of each org's audit log to the object store: a setting per org, and the
-- outbox of sealed spans waiting to be written.
--
-- Every periodic checkpoint seals a span (the rows after the previous periodic checkpoint, up
-- to it). In the checkpoint's own transaction, a span to export becomes one or more rows of
-- export_segments; the exporter writes each as an object and then deletes its row. So a span
-- is queued exactly when its checkpoint is recorded, and stays queued until it is written.

-- No row: export is on.
CREATE TABLE export_settings (
  org_id       text PRIMARY KEY,
  enabled      boolean NOT NULL,
  -- The chain position of the change-log row of the last change that flipped `enabled`: a
  -- span that contains it had export on for part of its life (src/domain/export-segment.ts).
  changed_seq  bigint NOT NULL CHECK (changed_seq >= 1),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- A span (or a slice of a long one) sealed by the periodic checkpoint at checkpoint_seq and not
-- yet in the object store. Rows go once written; what remains is what is owed.
CREATE TABLE export_segments (
  org_id          text NOT NULL,
  first_seq       bigint NOT NULL CHECK (first_seq >= 1),
  last_seq        bigint NOT NULL,
  checkpoint_seq  bigint NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer NOT NULL DEFAULT 0,
  -- An error class ("timeout", "access_denied", …), never a server's text.
  last_error      text,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, first_seq),
  CHECK (last_seq >= first_seq AND checkpoint_seq >= last_seq)
);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['export_settings', 'export_segments'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
      USING (org_id = current_setting('app.org_id', true))
      WITH CHECK (org_id = current_setting('app.org_id', true))$p$, t);
  END LOOP;
END $$;

-- The owner (reachable only through the function below) may find which orgs owe segments;
-- it sees ids only.
CREATE POLICY maintenance_scan ON export_segments FOR SELECT TO fortress_audit_owner USING (true);

-- Orgs with segments waiting to be written, the longest-waiting first.
CREATE FUNCTION orgs_with_pending_export(p_limit integer) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = audit, pg_temp AS $$
  SELECT org_id FROM export_segments GROUP BY org_id ORDER BY min(created_at) LIMIT p_limit
$$;
REVOKE ALL ON FUNCTION orgs_with_pending_export(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orgs_with_pending_export(integer) TO fortress_audit;

-- Retention must not delete a row the export still owes: refuse, as the last line behind the
-- retention job (which already stops before the first pending segment). Otherwise unchanged
-- from migration 002.
CREATE OR REPLACE FUNCTION apply_retention(
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
  IF EXISTS (SELECT 1 FROM export_segments WHERE org_id = p_org AND first_seq <= p_upto) THEN
    RAISE EXCEPTION 'rows up to % are not all exported yet', p_upto USING ERRCODE = 'check_violation';
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

GRANT SELECT, INSERT, UPDATE ON export_settings TO fortress_audit;
GRANT SELECT, INSERT, UPDATE, DELETE ON export_segments TO fortress_audit;
