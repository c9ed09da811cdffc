import assert from 'node:assert/strict';
import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../../packages/kit/test/support/pg-fixture.js';
import { createIdentityStore } from '../../../src/adapters/pg/identity-store.js';
import { createSessionStore, type SessionStore } from '../../../src/adapters/pg/session-store.js';
import { createUserStore, type UserStore } from '../../../src/adapters/pg/user-store.js';
import { issueRefreshToken } from '../../../src/domain/refresh-token.js';

const ORG_A = 'org_aaa111';
const ORG_B = 'org_bbb222';
const HASH = 'scrypt$N=16384,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==';
const T0 = new Date('2026-11-23T10:00:00Z');
const HOUR = 3600_000;

describe('user and session stores on PostgreSQL', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let pool: pg.Pool;
  let users: UserStore;
  let sessions: SessionStore;
  const tokenB = issueRefreshToken(ORG_B);

  before(async () => {
    fx = await startPgFixture(['identity']);
    pool = fx.runtimePool('identity');
    users = createUserStore(pool);
    sessions = createSessionStore(pool);
    const orgs = createIdentityStore(pool);
    await orgs.createOrg({ id: ORG_A, name: 'Alpha', tier: 'soho' });
    await orgs.createOrg({ id: ORG_B, name: 'Beta', tier: 'bank' });
    for (const [id, orgId] of [
      ['usr_a1', ORG_A],
      ['usr_b1', ORG_B],
    ] as const) {
      await users.createUser({
        id,
        orgId,
        email: 'same@example.com',
        passwordHash: HASH,
        roles: ['admin'],
      });
    }
    await sessions.open({
      sessionId: 'ses_b1',
      orgId: ORG_B,
      userId: 'usr_b1',
      createdAt: T0,
      expiresAt: new Date(T0.getTime() + 12 * HOUR),
      tokenHash: tokenB.hash,
    });
  });
  after(() => fx?.stop());

  it('keeps emails unique per org, case-insensitively, and lets two orgs share one', async () => {
    assert.equal(
      await users.createUser({
        id: 'usr_a2',
        orgId: ORG_A,
        email: 'same@example.com',
        passwordHash: HASH,
        roles: ['viewer'],
      }),
      undefined,
    );
    // the store writes lowercase; the index holds even if something else did not
    await assert.rejects(
      fx.admin.query(
        `INSERT INTO identity.users (id, org_id, email, password_hash, roles) VALUES ('usr_x', $1, 'SAME@example.com', $2, '{viewer}')`,
        [ORG_A, HASH],
      ),
      /check constraint/,
    );
    assert.equal((await users.findForLogin(ORG_B, 'same@example.com'))?.userId, 'usr_b1');
  });

  const refused = [
    {
      name: 'an unknown role',
      sql: `INSERT INTO users (id, org_id, email, password_hash, roles) VALUES ('usr_r', '${ORG_A}', 'r@x.io', '${HASH}', '{root}')`,
    },
    {
      name: 'no role',
      sql: `INSERT INTO users (id, org_id, email, password_hash, roles) VALUES ('usr_r', '${ORG_A}', 'r@x.io', '${HASH}', '{}')`,
    },
    {
      name: 'a password that is not a scrypt hash',
      sql: `INSERT INTO users (id, org_id, email, password_hash, roles) VALUES ('usr_r', '${ORG_A}', 'r@x.io', 'hunter2hunter2', '{viewer}')`,
    },
    { name: 'a revocation without a reason', sql: `UPDATE sessions SET revoked_at = now()` },
    {
      name: 'an unknown revocation reason',
      sql: `UPDATE sessions SET revoked_at = now(), revoked_reason = 'bored'`,
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name} (check constraint)`, async () => {
      await assert.rejects(
        inTenant(pool, ORG_B, (db) => db.query(c.sql)),
        /check constraint|violates/,
      );
    });
  }

  it('finds no user, session or refresh token of another org, even by naming it', async () => {
    assert.equal(await users.findForLogin(ORG_A, 'nobody@example.com'), undefined);
    assert.equal(await sessions.family(ORG_A, 'ses_b1'), undefined);
    assert.equal((await sessions.family(ORG_B, 'ses_b1'))?.userId, 'usr_b1');
    const seen = await sessions.withRefreshToken(ORG_A, tokenB.hash, (f) => Promise.resolve(f));
    assert.equal(seen, undefined);
    for (const table of ['users', 'sessions', 'refresh_tokens']) {
      const { rows } = await inTenant(pool, ORG_A, (db) =>
        db.query<{ org_id: string }>(`SELECT org_id FROM ${table}`),
      );
      assert.ok(
        rows.every((r) => r.org_id === ORG_A),
        table,
      );
    }
  });

  const crossTenant = [
    {
      name: 'a user for another org',
      sql: `INSERT INTO users (id, org_id, email, password_hash, roles) VALUES ('usr_x', '${ORG_B}', 'x@x.io', '${HASH}', '{owner}')`,
    },
    {
      name: 'a session for another org',
      sql: `INSERT INTO sessions (id, org_id, user_id, created_at, expires_at) VALUES ('ses_x', '${ORG_B}', 'usr_b1', now(), now() + interval '1 hour')`,
    },
    {
      name: 'a refresh token for another org',
      sql: `INSERT INTO refresh_tokens (token_hash, org_id, session_id, created_at) VALUES (decode(repeat('ab', 32), 'hex'), '${ORG_B}', 'ses_b1', now())`,
    },
  ];
  for (const c of crossTenant) {
    it(`refuses to INSERT ${c.name} than app.org_id (WITH CHECK)`, async () => {
      await assert.rejects(
        inTenant(pool, ORG_A, (db) => db.query(c.sql)),
        /row-level security/,
      );
    });
  }

  it("does not revoke another org's session", async () => {
    const { rowCount } = await inTenant(pool, ORG_A, (db) =>
      db.query(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = 'ses_b1'",
      ),
    );
    assert.equal(rowCount, 0);
    assert.equal((await sessions.family(ORG_B, 'ses_b1'))?.revokedAt, null);
  });

  it("refuses a session of one org for another org's user (composite foreign key)", async () => {
    await assert.rejects(
      fx.admin.query(
        `INSERT INTO identity.sessions (id, org_id, user_id, created_at, expires_at)
         VALUES ('ses_x', $1, 'usr_b1', now(), now() + interval '1 hour')`,
        [ORG_A],
      ),
      /foreign key/,
    );
  });

  it('locks an account on the max-th consecutive failure, then counts from zero again', async () => {
    const until = new Date(T0.getTime() + 15 * 60_000);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await users.recordFailure(ORG_A, 'usr_a1', 3, until));
    assert.deepEqual(results, [false, false, true, false]);
    const user = await users.findForLogin(ORG_A, 'same@example.com');
    assert.equal(user?.failedLogins, 1);
    assert.deepEqual(user?.lockedUntil, until);
    await users.recordSuccess(ORG_A, 'usr_a1');
    const cleared = await users.findForLogin(ORG_A, 'same@example.com');
    assert.equal(cleared?.failedLogins, 0);
    assert.equal(cleared?.lockedUntil, null);
    assert.equal(await users.recordFailure(ORG_A, '', 1, until), false, 'no user, no lock');
  });
});
