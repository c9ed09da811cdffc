-- Alerts (S9): an org's alert settings, the alert emails raised from notifications (sent by
-- BullMQ jobs; these rows are the record of what was accepted, so a job Redis loses is
-- enqueued again from here), and anomaly detection's hourly activity per user with the
-- anomalies it found.

-- No row: no recipients, every type, default anomaly thresholds.
CREATE TABLE alert_settings (
  org_id             text PRIMARY KEY,
  email_recipients   text[] NOT NULL DEFAULT '{}',
  -- Empty: every alert type.
  email_types        text[] NOT NULL DEFAULT '{}',
  anomaly_disabled   boolean NOT NULL DEFAULT false,
  -- NULL: the service's default.
  anomaly_k          double precision CHECK (anomaly_k BETWEEN 1 AND 20),
  anomaly_min_requests integer CHECK (anomaly_min_requests >= 1),
  anomaly_min_denies   integer CHECK (anomaly_min_denies >= 1),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- One email per alert. alert_id is the notification's event id, or an id derived from a
-- period for alerts sent at most once per period; a redelivered notification adds nothing.
-- Subject and body are rendered once, from metadata only, and sent as stored on every attempt.
CREATE TABLE alert_emails (
  id           bigserial UNIQUE,
  org_id       text NOT NULL,
  alert_id     uuid NOT NULL,
  event_id     uuid NOT NULL,
  type         text NOT NULL,
  recipients   text[] NOT NULL,
  subject      text NOT NULL,
  body         text NOT NULL,
  state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
  attempts     integer NOT NULL DEFAULT 0,
  -- An error class ("connection_refused", "timeout", …), never a server's text.
  last_error   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  sent_at      timestamptz,
  PRIMARY KEY (org_id, alert_id)
);
CREATE INDEX alert_emails_org_id ON alert_emails (org_id, id DESC);
CREATE INDEX alert_emails_pending ON alert_emails (updated_at) WHERE state = 'pending';

-- Decisions per user (the audit subject) per UTC hour, rolled up from the log as it grows:
-- anomaly detection's history. Rows older than its window are pruned.
CREATE TABLE activity_hours (
  org_id      text NOT NULL,
  subject_id  text NOT NULL,
  hour        timestamptz NOT NULL,
  requests    integer NOT NULL DEFAULT 0,
  denies      integer NOT NULL DEFAULT 0,
  PRIMARY KEY (org_id, subject_id, hour)
);

-- How far an org's log has been rolled up (its org_seq); locked while rolling up, so
-- replicas never count a row twice.
CREATE TABLE activity_cursors (
  org_id    text PRIMARY KEY,
  seq       bigint NOT NULL DEFAULT 0
);

-- An anomaly found: at most one per (user, hour). event_id is derived from the three, so
-- publishing it again is a duplicate every consumer drops; published_at is set once the
-- stream acked it (until then every run publishes it again).
CREATE TABLE anomalies (
  org_id        text NOT NULL,
  subject_id    text NOT NULL,
  hour          timestamptz NOT NULL,
  event_id      uuid NOT NULL,
  data          jsonb NOT NULL,
  found_at      timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz,
  PRIMARY KEY (org_id, subject_id, hour)
);
CREATE INDEX anomalies_unpublished ON anomalies (org_id) WHERE published_at IS NULL;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['alert_settings', 'alert_emails', 'activity_hours',
                           'activity_cursors', 'anomalies'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
      USING (org_id = current_setting('app.org_id', true))
      WITH CHECK (org_id = current_setting('app.org_id', true))$p$, t);
  END LOOP;
END $$;

-- The owner (reachable only through the function below) may find pending alert emails of
-- every org, to re-enqueue those whose job Redis lost; it sees ids only.
CREATE POLICY maintenance_scan ON alert_emails FOR SELECT TO fortress_audit_owner USING (true);

-- Pending alert emails not touched for `p_older`, oldest first: candidates for a lost job.
CREATE FUNCTION stalled_alert_emails(p_older interval, p_limit integer)
RETURNS TABLE (org_id text, alert_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = audit, pg_temp AS $$
  SELECT e.org_id, e.alert_id FROM alert_emails e
   WHERE e.state = 'pending' AND e.updated_at <= now() - p_older
   ORDER BY e.updated_at
   LIMIT p_limit
$$;
REVOKE ALL ON FUNCTION stalled_alert_emails(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stalled_alert_emails(interval, integer) TO fortress_audit;

GRANT SELECT, INSERT, UPDATE ON alert_settings TO fortress_audit;
GRANT SELECT, INSERT, UPDATE ON alert_emails TO fortress_audit;
GRANT USAGE ON SEQUENCE alert_emails_id_seq TO fortress_audit;
GRANT SELECT, INSERT, UPDATE, DELETE ON activity_hours TO fortress_audit;
GRANT SELECT, INSERT, UPDATE ON activity_cursors TO fortress_audit;
GRANT SELECT, INSERT, UPDATE ON anomalies TO fortress_audit;
