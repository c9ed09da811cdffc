-- Envelope-encrypted credentials. Only wrapped data keys and ciphertexts are stored; the
-- KMS key that unwraps a data key never leaves KMS.

-- One data key per org and epoch, wrapped by the org's KMS key (encryption context binds org).
CREATE TABLE data_keys (
  org_id       text NOT NULL,
  epoch        integer NOT NULL,
  kms_key_id   text NOT NULL,
  wrapped_key  bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, epoch)
);

CREATE TABLE credentials (
  org_id       text NOT NULL,
  id           text NOT NULL,
  version      integer NOT NULL CHECK (version >= 1),
  kind         text NOT NULL,
  label        text NOT NULL,
  last_four    text NOT NULL,
  status       text NOT NULL CHECK (status IN ('active', 'rotated', 'revoked', 'expired')),
  key_epoch    integer NOT NULL,
  -- 0x01 || iv(12) || tag(16) || AES-256-GCM ciphertext; AAD binds org, id and version.
  ciphertext   bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  rotated_at   timestamptz,
  expires_at   timestamptz,
  PRIMARY KEY (org_id, id, version),
  FOREIGN KEY (org_id, key_epoch) REFERENCES data_keys (org_id, epoch)
);

ALTER TABLE data_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON data_keys
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

ALTER TABLE credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON credentials
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON data_keys, credentials TO fortress_vault;
