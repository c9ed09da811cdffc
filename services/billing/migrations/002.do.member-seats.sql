-- Seats follow identity's members: billing consumes their change events from JetStream and
-- appends the seat changes they imply to the ledger.

-- A member may hold seats before the org's billing account exists (the operator opens it
-- later); those changes still belong in the ledger, so it no longer requires the account.
ALTER TABLE seat_events DROP CONSTRAINT seat_events_org_id_fkey;
-- The member change event a seat change came from (NULL for changes recorded directly).
ALTER TABLE seat_events ADD COLUMN source_event_id uuid;
CREATE UNIQUE INDEX seat_events_by_source ON seat_events (org_id, source_event_id, product)
  WHERE source_event_id IS NOT NULL;

-- The latest member change event applied per member: an older one delivered late (after a
-- redelivery) must not undo a newer one.
CREATE TABLE member_sync (
  org_id          text NOT NULL,
  user_id         text NOT NULL,
  last_event_at   timestamptz NOT NULL,
  last_event_id   uuid NOT NULL,
  PRIMARY KEY (org_id, user_id)
);
ALTER TABLE member_sync ENABLE ROW LEVEL SECURITY;
ALTER TABLE member_sync FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON member_sync
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

GRANT SELECT, INSERT, UPDATE ON member_sync TO fortress_billing;
