-- Admin-plane users and their sessions. Same rules as 001: every table carries org_id and is
-- guarded by row-level security with FORCE, keyed on the per-transaction setting app.org_id.
-- No definer function is needed: a login names its org, and a refresh token carries its org
-- inside the token (frt_<org id>.<secret>), so every query runs inside one tenant.

CREATE TABLE users (
  id             text PRIMARY KEY,
  org_id         text NOT NULL REFERENCES orgs (id),
  -- Stored lowercased; the unique index below also compares case-insensitively.
  email          text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
  -- scrypt$N=…,r=…,p=…$<salt b64>$<hash b64>: self-describing, so parameters can change later.
  password_hash  text NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
  roles          text[] NOT NULL CHECK (
                   cardinality(roles) > 0 AND roles <@ ARRAY['owner', 'admin', 'auditor', 'viewer']
                 ),
  disabled       boolean NOT NULL DEFAULT false,
  -- Consecutive failed logins since the last success or lock; locked_until bars logins.
  failed_logins  integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
  locked_until   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id)
);
CREATE UNIQUE INDEX users_org_email ON users (org_id, lower(email));
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

-- A session is a family of refresh tokens from one login. Revoking it ends every token of the
-- family and every access token naming it (sid).
CREATE TABLE sessions (
  id              text PRIMARY KEY,
  org_id          text NOT NULL,
  user_id         text NOT NULL,
  created_at      timestamptz NOT NULL,
  -- Absolute end of the session, however often it is refreshed.
  expires_at      timestamptz NOT NULL CHECK (expires_at > created_at),
  revoked_at      timestamptz,
  revoked_reason  text CHECK (revoked_reason IN ('logout', 'refresh_token_reuse')),
  CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
  FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
  UNIQUE (org_id, id)
);
CREATE INDEX sessions_user ON sessions (org_id, user_id, created_at);
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

CREATE TABLE refresh_tokens (
  -- SHA-256 of the whole token; the token itself is never stored.
  token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  org_id      text NOT NULL,
  session_id  text NOT NULL,
  created_at  timestamptz NOT NULL,
  -- Set when the token was exchanged for the next one; presenting it again is reuse.
  used_at     timestamptz,
  FOREIGN KEY (org_id, session_id) REFERENCES sessions (org_id, id)
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (org_id, session_id);
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refresh_tokens
  USING (org_id = current_setting('app.org_id', true))
  WITH CHECK (org_id = current_setting('app.org_id', true));

GRANT SELECT, INSERT, UPDATE ON users, sessions, refresh_tokens TO fortress_identity;
