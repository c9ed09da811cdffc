-- Trust tiers, per-credential keys, rotation, events and background work.
--
-- Key hierarchy: KMS key (service-managed for SOHO, the customer's for Bank and Zero Trust)
--   → org data key per epoch (data_keys.wrapped_key, a KMS ciphertext blob)
--     → one random key per credential version (credentials.wrapped_dek)
--       → the secret (credentials.ciphertext).
-- Deleting a row deletes the only wrapped copy of its key: that is the crypto-shred.

-- Which KMS key protects an org's data keys, and how often they rotate. No row: SOHO with the
-- service-managed key and the default rotation period.
CREATE TABLE key_configs (
  org_id        text PRIMARY KEY,
  tier          text NOT NULL CHECK (tier IN ('soho', 'bank', 'zero_trust')),
  -- '' = the service-managed key; otherwise the customer's key id or ARN.
  kms_key_id    text NOT NULL DEFAULT '',
  -- '' = the default KMS endpoint; otherwise one of the endpoints the vault is configured to allow.
  kms_endpoint  text NOT NULL DEFAULT '',
  grant_id      text NOT NULL DEFAULT '',
  rotation_days integer NOT NULL CHECK (rotation_days BETWEEN 1 AND 365),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  updated_by    text NOT NULL DEFAULT ''
);

-- 'aes': wrapped_key unwraps (KMS Decrypt) to an AES-256 data key that wraps credential keys.
-- 'p256' (Zero Trust): KMS made the key pair (GenerateDataKeyPairWithoutPlaintext); wrapped_key
-- unwraps to the P-256 private key, which only a live session ever holds; credential keys are
-- wrapped to public_key (SPKI DER), so writes need no secret and the vault never sees the
-- private key outside a session.
ALTER TABLE data_keys
  ADD COLUMN scheme       text NOT NULL DEFAULT 'aes' CHECK (scheme IN ('aes', 'p256')),
  ADD COLUMN tier         text NOT NULL DEFAULT 'soho' CHECK (tier IN ('soho', 'bank', 'zero_trust')),
  ADD COLUMN kms_endpoint text NOT NULL DEFAULT '',
  ADD COLUMN public_key   bytea,
  ADD CONSTRAINT data_keys_public_key CHECK ((scheme = 'p256') = (public_key IS NOT NULL));

-- wrapped_dek NULL: a ciphertext of format 0x01, sealed directly under the epoch's data key
-- (written before per-credential keys existed); re-wrapping converts it.
ALTER TABLE credentials
  ADD COLUMN wrapped_dek          bytea,
  -- A rotated version keeps serving until then, and is refused (and shredded) after.
  ADD COLUMN overlap_until        timestamptz,
  ADD COLUMN expiring_notified_at timestamptz;

CREATE INDEX credentials_org_epoch ON credentials (org_id, key_epoch);

-- Background re-wrap of an org's credentials onto its newest data key. Progress is the
-- credentials' key_epoch itself, so a crashed job resumes where it stopped.
CREATE TABLE rewrap_jobs (
  org_id      text NOT NULL,
  id          text NOT NULL,
  to_epoch    integer NOT NULL,
  state       text NOT NULL CHECK (state IN ('running', 'awaiting_session', 'done', 'superseded')),
  rewrapped   integer NOT NULL DEFAULT 0,
  actor_id    text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  PRIMARY KEY (org_id, id)
);

-- Events (change events, credential.expiring) written in the same transaction as the change
-- they describe, then relayed to JetStream. Protobuf EventEnvelopes; metadata only.
CREATE TABLE outbox (
  org_id     text NOT NULL,
  seq        bigserial,
  envelope   bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, seq)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['key_configs', 'rewrap_jobs', 'outbox'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I USING (org_id = current_setting(''app.org_id'', true)) '
      'WITH CHECK (org_id = current_setting(''app.org_id'', true))', t);
  END LOOP;
END $$;

-- Untenanted on purpose: background workers must find which orgs have work due without being
-- any one tenant. Holds org ids, due times and worker leases only — nothing about credentials.
CREATE TABLE org_work (
  org_id          text PRIMARY KEY,
  rotation_due_at timestamptz,
  rewrap_due_at   timestamptz,
  sweep_due_at    timestamptz,
  outbox_due_at   timestamptz,
  -- Bumped by every change that marks work due, so that a worker finishing a pass never
  -- clears a due time that was set while it worked.
  gen             bigint NOT NULL DEFAULT 0,
  lease_owner     text,
  lease_until     timestamptz
);
CREATE INDEX org_work_due ON org_work (
  (LEAST(rotation_due_at, rewrap_due_at, sweep_due_at, outbox_due_at))
);

GRANT SELECT, INSERT, UPDATE, DELETE ON key_configs, rewrap_jobs, outbox, org_work TO fortress_vault;
GRANT USAGE ON SEQUENCE outbox_seq_seq TO fortress_vault;
