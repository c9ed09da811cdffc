-- Webhooks (S9): an org's subscriptions, the notification events to deliver, one delivery per
-- (event, subscription) and every attempt of it. Delivery jobs run on BullMQ (Redis); these
-- tables are the record of what was accepted, so a job Redis loses is enqueued again from
-- here (see stalled_webhook_deliveries).

CREATE TABLE webhook_subscriptions (
  org_id              text NOT NULL,
  id                  text NOT NULL,
  url                 text NOT NULL,
  -- Empty: every event type.
  event_types         text[] NOT NULL DEFAULT '{}',
  description         text NOT NULL DEFAULT '',
  enabled             boolean NOT NULL DEFAULT true,
  -- The signing secret must be usable as an HMAC key, so it cannot be kept as a hash: it is
  -- AES-256-GCM ciphertext (iv || ciphertext || tag) under the key named by secret_key_id,
  -- with AAD binding org, subscription and secret version (src/adapters/keys/secret-box.ts).
  secret_key_id       text NOT NULL,
  secret_ciphertext   bytea NOT NULL,
  secret_version      integer NOT NULL CHECK (secret_version >= 1),
  secret_set_at       timestamptz NOT NULL DEFAULT now(),
  -- After a rotation the previous secret also signs, until previous_secret_until.
  previous_secret_key_id      text,
  previous_secret_ciphertext  bytea,
  previous_secret_until       timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id)
);

-- A notification event as delivered: the exact body, so every attempt and replay signs and
-- sends the same bytes.
CREATE TABLE webhook_messages (
  org_id       text NOT NULL,
  event_id     uuid NOT NULL,
  type         text NOT NULL,
  occurred_at  timestamptz NOT NULL,
  body         text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, event_id)
);

CREATE TABLE webhook_deliveries (
  id               bigserial UNIQUE,
  org_id           text NOT NULL,
  event_id         uuid NOT NULL,
  subscription_id  text NOT NULL,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  replays          integer NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, event_id, subscription_id),
  FOREIGN KEY (org_id, event_id) REFERENCES webhook_messages (org_id, event_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, subscription_id) REFERENCES webhook_subscriptions (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_org_id ON webhook_deliveries (org_id, id DESC);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (updated_at) WHERE state = 'pending';

CREATE TABLE webhook_attempts (
  delivery_id   bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  org_id        text NOT NULL,
  attempt       integer NOT NULL CHECK (attempt >= 1),
  attempted_at  timestamptz NOT NULL,
  status_code   integer,
  -- Why no 2xx came when no status did ("timeout", "address_refused", …); never a secret.
  error         text,
  latency_ms    integer NOT NULL,
  state         text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  PRIMARY KEY (delivery_id, attempt)
);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['webhook_subscriptions', 'webhook_messages', 'webhook_deliveries',
                           'webhook_attempts'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
      USING (org_id = current_setting('app.org_id', true))
      WITH CHECK (org_id = current_setting('app.org_id', true))$p$, t);
  END LOOP;
END $$;

-- The owner (reachable only through the function below) may find pending deliveries of every
-- org, to re-enqueue those whose job Redis lost; it sees ids and counters only.
CREATE POLICY maintenance_scan ON webhook_deliveries FOR SELECT TO fortress_audit_owner USING (true);

-- Pending deliveries not touched for `p_older`, oldest first: candidates for a lost job.
CREATE FUNCTION stalled_webhook_deliveries(p_older interval, p_limit integer)
RETURNS TABLE (org_id text, event_id uuid, subscription_id text, replays integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = audit, pg_temp AS $$
  SELECT d.org_id, d.event_id, d.subscription_id, d.replays FROM webhook_deliveries d
   WHERE d.state = 'pending' AND d.updated_at <= now() - p_older
   ORDER BY d.updated_at
   LIMIT p_limit
$$;
REVOKE ALL ON FUNCTION stalled_webhook_deliveries(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stalled_webhook_deliveries(interval, integer) TO fortress_audit;

GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_subscriptions TO fortress_audit;
GRANT SELECT, INSERT, DELETE ON webhook_messages TO fortress_audit;
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_deliveries TO fortress_audit;
GRANT SELECT, INSERT, DELETE ON webhook_attempts TO fortress_audit;
GRANT USAGE ON SEQUENCE webhook_deliveries_id_seq TO fortress_audit;
