-- Billing accounts and the seat ledger, per org, under row-level security.

-- One billing account per org: its tier, the sign-up day every cycle is anchored on, and, for
-- Zero Trust only, the negotiated prices (there are no defaults; list tiers have none stored).
CREATE TABLE accounts (
  org_id                text PRIMARY KEY,
  tier                  text NOT NULL CHECK (tier IN ('soho', 'bank', 'zero_trust')),
  anchor_date           date NOT NULL,
  single_cents          bigint CHECK (single_cents > 0),
  bundle_cents          bigint CHECK (bundle_cents > 0),
  pack_max              integer CHECK (pack_max >= 0),
  overage_single_cents  bigint CHECK (overage_single_cents >= 0),
  overage_bundle_cents  bigint CHECK (overage_bundle_cents >= 0),
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CHECK ((tier = 'zero_trust') = (single_cents IS NOT NULL AND bundle_cents IS NOT NULL
    AND pack_max IS NOT NULL AND overage_single_cents IS NOT NULL AND overage_bundle_cents IS NOT NULL)),
  CHECK (tier = 'zero_trust' OR (single_cents IS NULL AND bundle_cents IS NULL AND pack_max IS NULL
    AND overage_single_cents IS NULL AND overage_bundle_cents IS NULL))
);

-- Every seat change, append-only: invoices are computed from it, never stored in its place.
-- seq orders an org's changes as recorded (the account row is locked while one is appended).
CREATE TABLE seat_events (
  org_id        text NOT NULL REFERENCES accounts (org_id),
  seq           bigint NOT NULL,
  user_id       text NOT NULL,
  product       text NOT NULL CHECK (product IN ('mcp', 'pat')),
  change        text NOT NULL CHECK (change IN ('granted', 'revoked')),
  effective_at  timestamptz NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, seq)
);
CREATE INDEX seat_events_by_time ON seat_events (org_id, effective_at, seq);
CREATE INDEX seat_events_by_user ON seat_events (org_id, user_id, product);

CREATE FUNCTION refuse_seat_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the seat ledger is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER seat_events_append_only BEFORE UPDATE OR DELETE ON seat_events
  FOR EACH ROW EXECUTE FUNCTION refuse_seat_event_change();
CREATE TRIGGER seat_events_no_truncate BEFORE TRUNCATE ON seat_events
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_seat_event_change();

ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounts
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

ALTER TABLE seat_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE seat_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON seat_events
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

GRANT SELECT, INSERT, UPDATE ON accounts TO fortress_billing;
GRANT SELECT, INSERT ON seat_events TO fortress_billing;
