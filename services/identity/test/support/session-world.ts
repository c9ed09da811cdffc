import assert from 'node:assert/strict';
import { ConnectError, type Code } from '@connectrpc/connect';
import { Tier } from '@fortress/proto/common/v1/common_pb';
import { AuthFailure, type AuthenticateResponse } from '@fortress/proto/identity/v1/identity_pb';
import { remoteReason } from '@fortress/kit/errors';
import { startIdentityFixture, type IdentityFixture } from './identity-fixture.js';

export const ORG_A = 'org_alpha1';
export const ORG_B = 'org_beta2';
/** Alice's (org A) password; other users of org A get it too. */
export const PASSWORD = 'Tr0ub4dor&3-canary-A';
/** Bob's (org B) password. */
export const OTHER_PASSWORD = 'another-long-passphrase-canary-B';
export const MINUTE = 60_000;

/** Two orgs (A: SOHO, B: Bank) with an admin each, and helpers that remember every secret. */
export interface SessionWorld {
  f: IdentityFixture;
  aliceId: string;
  /** Every secret a test handled: none may appear in a log line or an error message. */
  secrets: Set<string>;
  /** Remembers the tokens of a login or refresh as secrets; returns it. */
  keep<T extends { accessToken: string; refreshToken: string }>(issued: T): T;
  login(
    email?: string,
    password?: string,
    orgId?: string,
  ): ReturnType<IdentityFixture['admin']['login']>;
  refresh(refreshToken: string): ReturnType<IdentityFixture['admin']['refreshSession']>;
  authenticate(sessionToken: string): Promise<AuthenticateResponse>;
  /** The stored revocation of a session. */
  sessionRow(
    id: string,
  ): Promise<{ revoked_at: Date | null; revoked_reason: string | null } | undefined>;
  /** Expects a ConnectError with this code and stable reason, that leaks no secret. */
  failsWith(code: Code, reason: string): (err: unknown) => boolean;
}

/** Starts identity on PostgreSQL and seeds the two orgs and their admins. */
export async function startSessionWorld(): Promise<SessionWorld> {
  const f = await startIdentityFixture();
  const secrets = new Set<string>([PASSWORD, OTHER_PASSWORD]);
  const keep = <T extends { accessToken: string; refreshToken: string }>(issued: T): T => {
    secrets.add(issued.accessToken);
    secrets.add(issued.refreshToken);
    return issued;
  };
  await f.admin.createOrg({ id: ORG_A, name: 'Alpha', tier: Tier.SOHO });
  await f.admin.createOrg({ id: ORG_B, name: 'Beta', tier: Tier.BANK });
  const alice = await f.admin.createUser({
    orgId: ORG_A,
    email: 'Alice@Alpha.example',
    password: PASSWORD,
    roles: ['owner', 'auditor'],
  });
  await f.admin.createUser({
    orgId: ORG_B,
    email: 'bob@beta.example',
    password: OTHER_PASSWORD,
    roles: ['viewer'],
  });
  return {
    f,
    aliceId: alice.user?.id ?? '',
    secrets,
    keep,
    login: async (email = 'alice@alpha.example', password = PASSWORD, orgId = ORG_A) =>
      keep(await f.admin.login({ orgId, email, password, totpCode: '' })),
    refresh: async (refreshToken) => keep(await f.admin.refreshSession({ refreshToken })),
    authenticate: (sessionToken) =>
      f.identity.authenticate({ sessionToken, context: { requestId: 'r1' } }),
    sessionRow: async (id) =>
      (
        await f.pg.admin.query<{ revoked_at: Date | null; revoked_reason: string | null }>(
          'SELECT revoked_at, revoked_reason FROM identity.sessions WHERE id = $1',
          [id],
        )
      ).rows[0],
    failsWith: (code, reason) => (err) => {
      assert.ok(err instanceof ConnectError, String(err));
      assert.equal(err.code, code, err.message);
      assert.equal(remoteReason(err), reason);
      for (const s of secrets) assert.ok(!err.message.includes(s), 'no secret in an error');
      return true;
    },
  };
}

/** Expects a failed authentication with this failure and reason code. */
export function refused(res: AuthenticateResponse, failure: AuthFailure, code: string): void {
  assert.equal(res.authenticated, false);
  assert.equal(AuthFailure[res.failure], AuthFailure[failure]);
  assert.equal(res.reason?.code, code);
}

/** The checks that no password, token or password hash reached a log line or a stored row. */
export function itLeaksNoSecret(world: () => SessionWorld, expectedLog: string): void {
  it('wrote log lines, none with a password, a token or a password hash', async () => {
    const { f, secrets } = world();
    assert.ok(f.logLines.length > 5, 'the sessions logged');
    assert.ok(
      f.logLines.some((l) => l.includes(expectedLog)),
      expectedLog,
    );
    const { rows } = await f.pg.admin.query<{ password_hash: string }>(
      'SELECT password_hash FROM identity.users',
    );
    const hashes = rows.map((r) => r.password_hash);
    for (const line of f.logLines) {
      for (const s of [...secrets, ...hashes])
        assert.ok(!line.includes(s), `a secret in a log line: ${line.slice(0, 120)}`);
    }
  });

  it('keeps no refresh token in the database, only hashes', async () => {
    const { f, secrets } = world();
    const { rows } = await f.pg.admin.query<{ row: string }>(
      'SELECT t::text AS row FROM identity.refresh_tokens t',
    );
    assert.ok(rows.length > 0);
    for (const r of rows)
      for (const s of secrets) assert.ok(!r.row.includes(s.slice(-43)), 'a token in a row');
  });
}
