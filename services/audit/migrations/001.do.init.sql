-- The audit log: one row per decision, outcome or change event, append-only.

CREATE TABLE events (
  seq          bigserial PRIMARY KEY,
  event_id     uuid NOT NULL UNIQUE,
  org_id       text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('decision', 'outcome', 'change', 'notification')),
  occurred_at  timestamptz NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  source       text NOT NULL,
  product      text,
  actor        jsonb NOT NULL DEFAULT '{}',
  action       text NOT NULL DEFAULT '',
  resource     text NOT NULL DEFAULT '',
  decision     text CHECK (decision IN ('allow', 'deny')),
  reasons      jsonb NOT NULL DEFAULT '[]',
  latency_us   bigint,
  status_code  integer,
  request_id   text NOT NULL DEFAULT '',
  trace_id     text NOT NULL DEFAULT '',
  -- The whole event as received (protobuf JSON); never holds a credential.
  event        jsonb NOT NULL
);
CREATE INDEX events_org_seq ON events (org_id, seq DESC);
CREATE INDEX events_org_request ON events (org_id, request_id);

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON events
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

-- Append-only, whoever asks: rows can be added, never changed or removed.
CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();

-- Events that reached the consumer but cannot become audit rows (undecodable, no org, no
-- payload) are kept here with the reason, never dropped and never retried forever. They have
-- no trustworthy org, so this is not a tenant table; only the audit service reads it.
CREATE TABLE rejected_events (
  id           bigserial PRIMARY KEY,
  received_at  timestamptz NOT NULL DEFAULT now(),
  subject      text NOT NULL,
  reason       text NOT NULL,
  payload      bytea NOT NULL
);

GRANT SELECT, INSERT ON events TO fortress_audit;
GRANT INSERT, SELECT ON rejected_events TO fortress_audit;
GRANT USAGE ON SEQUENCE rejected_events_id_seq TO fortress_audit;
GRANT USAGE ON SEQUENCE events_seq_seq TO fortress_audit;
