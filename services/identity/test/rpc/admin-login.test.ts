import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { toJsonString } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Code, type ConnectError } from '@connectrpc/connect';
import { PrincipalKind, Product, Tier } from '@fortress/proto/common/v1/common_pb';
import { CreateUserResponseSchema } from '@fortress/proto/identity/v1/identity_pb';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import {
  itLeaksNoSecret,
  MINUTE,
  ORG_A,
  ORG_B,
  OTHER_PASSWORD,
  PASSWORD,
  startSessionWorld,
  type SessionWorld,
} from '../support/session-world.js';

describe('admin users and login (identity RPCs on PostgreSQL)', function () {
  this.timeout(120_000);
  let w: SessionWorld;
  before(async () => {
    w = await startSessionWorld();
  });
  after(() => w?.f.stop());

  describe('CreateUser', () => {
    it('returns metadata only: id, org, lowercased email, roles, created_at, disabled', async () => {
      const res = await w.f.admin.createUser({
        orgId: ORG_A,
        email: 'carol@alpha.example',
        password: PASSWORD,
        roles: ['admin', 'admin'],
      });
      const user = res.user;
      assert.ok(user);
      assert.match(user.id, /^usr_[0-9a-f]{20}$/);
      assert.equal(user.orgId, ORG_A);
      assert.equal(user.email, 'carol@alpha.example');
      assert.deepEqual(user.roles, ['admin']);
      assert.equal(user.disabled, false);
      assert.ok(user.createdAt);
      const json = toJsonString(CreateUserResponseSchema, res);
      assert.ok(!json.includes(PASSWORD) && !json.includes('scrypt'), json);
      assert.match(w.aliceId, /^usr_/);
    });

    it('stores the password only as a scrypt hash', async () => {
      const { rows } = await w.f.pg.admin.query<{ email: string; password_hash: string }>(
        'SELECT email, password_hash FROM identity.users WHERE id = $1',
        [w.aliceId],
      );
      assert.equal(rows[0]?.email, 'alice@alpha.example');
      assert.match(rows[0]?.password_hash ?? '', /^scrypt\$N=16384,r=8,p=1\$[^$]+\$[^$]+$/);
      assert.ok(!rows[0]?.password_hash.includes(PASSWORD));
    });

    const refusals = [
      {
        name: 'a password of 11 characters',
        req: { orgId: ORG_A, email: 'd@alpha.example', password: 'short-pw-11', roles: ['viewer'] },
        code: Code.InvalidArgument,
        reason: 'invalid_argument',
      },
      {
        name: 'an unknown role',
        req: { orgId: ORG_A, email: 'd@alpha.example', password: PASSWORD, roles: ['root'] },
        code: Code.InvalidArgument,
        reason: 'invalid_argument',
      },
      {
        name: 'no role',
        req: { orgId: ORG_A, email: 'd@alpha.example', password: PASSWORD, roles: [] },
        code: Code.InvalidArgument,
        reason: 'invalid_argument',
      },
      {
        name: 'an email without "@"',
        req: { orgId: ORG_A, email: 'd.alpha.example', password: PASSWORD, roles: ['viewer'] },
        code: Code.InvalidArgument,
        reason: 'invalid_argument',
      },
      {
        name: 'an org that does not exist',
        req: { orgId: 'org_nope', email: 'd@alpha.example', password: PASSWORD, roles: ['viewer'] },
        code: Code.NotFound,
        reason: 'org_not_found',
      },
      {
        name: 'an email the org already has, in other case',
        req: { orgId: ORG_A, email: 'ALICE@alpha.example', password: PASSWORD, roles: ['viewer'] },
        code: Code.AlreadyExists,
        reason: 'user_exists',
      },
    ];
    for (const c of refusals) {
      it(`refuses ${c.name} (${Code[c.code]} ${c.reason})`, async () => {
        await assert.rejects(w.f.admin.createUser(c.req), w.failsWith(c.code, c.reason));
      });
    }
  });

  describe('Login', () => {
    it('issues an EdDSA access JWT with the specified claims, a refresh token and the ADMIN principal', async () => {
      const res = await w.login('ALICE@alpha.example');
      const header = decodeProtectedHeader(res.accessToken);
      assert.deepEqual(header, { alg: 'EdDSA', typ: 'at+jwt', kid: w.f.signingKey.keyId });
      const { payload } = await jwtVerify(res.accessToken, w.f.signingKey.publicKey, {
        algorithms: ['EdDSA'],
        currentDate: w.f.now(),
      });
      const sid = res.principal?.sessionId ?? '';
      assert.match(sid, /^ses_[0-9a-f]{20}$/);
      assert.equal(payload.iss, 'fortress-identity');
      assert.equal(payload.aud, 'fortress-admin');
      assert.equal(payload.sub, w.aliceId);
      assert.equal(payload['org'], ORG_A);
      assert.deepEqual(payload['roles'], ['owner', 'auditor']);
      assert.equal(payload['sid'], sid);
      assert.ok(payload.jti);
      assert.equal(payload.iat, w.f.now().getTime() / 1000);
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 15 * 60);
      assert.ok(res.accessExpiresAt);
      assert.equal(timestampDate(res.accessExpiresAt).getTime(), (payload.exp ?? 0) * 1000);

      assert.match(res.refreshToken, new RegExp(`^frt_${ORG_A}\\.[A-Za-z0-9_-]{43}$`));
      const stored = await w.f.pg.admin.query<{ token_hash: Buffer }>(
        'SELECT token_hash FROM identity.refresh_tokens WHERE session_id = $1',
        [sid],
      );
      assert.deepEqual(
        stored.rows.map((r) => r.token_hash),
        [createHash('sha256').update(res.refreshToken).digest()],
      );

      const p = res.principal;
      assert.ok(p);
      assert.equal(p.kind, PrincipalKind.ADMIN);
      assert.equal(p.orgId, ORG_A);
      assert.equal(p.tier, Tier.SOHO);
      assert.equal(p.subjectId, w.aliceId);
      assert.equal(p.userId, w.aliceId);
      assert.equal(p.email, 'alice@alpha.example');
      assert.deepEqual(p.roles, ['owner', 'auditor']);
      assert.deepEqual(p.products, [Product.ADMIN]);
    });

    it('ignores totp_code (MFA is not built yet)', async () => {
      const res = w.keep(
        await w.f.admin.login({
          orgId: ORG_A,
          email: 'alice@alpha.example',
          password: PASSWORD,
          totpCode: '000000',
        }),
      );
      assert.ok(res.accessToken);
    });

    it('gives a wrong password, an unknown email and an unknown org one and the same error', async () => {
      const attempts = [
        w.login('alice@alpha.example', `${PASSWORD}x`),
        w.login('nobody@alpha.example', PASSWORD),
        w.login('alice@alpha.example', PASSWORD, 'org_unknown9'),
      ];
      const errors = await Promise.all(
        attempts.map((p) =>
          p.then(
            () => undefined,
            (e: unknown) => e,
          ),
        ),
      );
      for (const err of errors) w.failsWith(Code.Unauthenticated, 'invalid_credentials')(err);
      const messages = errors.map((e) => (e as ConnectError).rawMessage);
      assert.deepEqual(messages, Array(3).fill('invalid email or password'));
    });

    it("does not let a user of one org log in with another org's id (tenant isolation)", async () => {
      await assert.rejects(
        w.login('alice@alpha.example', PASSWORD, ORG_B),
        w.failsWith(Code.Unauthenticated, 'invalid_credentials'),
      );
      await assert.rejects(
        w.login('bob@beta.example', OTHER_PASSWORD, ORG_A),
        w.failsWith(Code.Unauthenticated, 'invalid_credentials'),
      );
      const bob = await w.login('bob@beta.example', OTHER_PASSWORD, ORG_B);
      assert.equal(bob.principal?.orgId, ORG_B);
      assert.equal(bob.principal?.tier, Tier.BANK);
    });

    it('locks an account for 15 minutes after 10 consecutive failures, with the same error', async () => {
      await w.f.admin.createUser({
        orgId: ORG_A,
        email: 'dave@alpha.example',
        password: PASSWORD,
        roles: ['viewer'],
      });
      for (let i = 0; i < 10; i++) {
        await assert.rejects(
          w.login('dave@alpha.example', `wrong-password-${i}`),
          w.failsWith(Code.Unauthenticated, 'invalid_credentials'),
        );
      }
      await assert.rejects(
        w.login('dave@alpha.example', PASSWORD),
        w.failsWith(Code.Unauthenticated, 'invalid_credentials'),
      );
      w.f.advance(15 * MINUTE - 1000);
      await assert.rejects(
        w.login('dave@alpha.example', PASSWORD),
        w.failsWith(Code.Unauthenticated, 'invalid_credentials'),
      );
      w.f.advance(1000);
      assert.ok((await w.login('dave@alpha.example', PASSWORD)).accessToken);
      const { rows } = await w.f.pg.admin.query(
        "SELECT failed_logins, locked_until FROM identity.users WHERE email = 'dave@alpha.example'",
      );
      assert.deepEqual(rows, [{ failed_logins: 0, locked_until: null }]);
    });

    it('refuses a disabled user with the same error', async () => {
      await w.f.admin.createUser({
        orgId: ORG_A,
        email: 'erin@alpha.example',
        password: PASSWORD,
        roles: ['viewer'],
      });
      await w.f.pg.admin.query(
        "UPDATE identity.users SET disabled = true WHERE email = 'erin@alpha.example'",
      );
      await assert.rejects(
        w.login('erin@alpha.example', PASSWORD),
        w.failsWith(Code.Unauthenticated, 'invalid_credentials'),
      );
    });
  });

  describe('secret hygiene', () => itLeaksNoSecret(() => w, 'admin account locked after failures'));
});
