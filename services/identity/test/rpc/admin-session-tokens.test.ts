import assert from 'node:assert/strict';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import { PrincipalKind } from '@fortress/proto/common/v1/common_pb';
import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import { SignJWT } from 'jose';
import { signAccessToken } from '../../src/domain/access-token.js';
import { b64json, testSigningKey } from '../support/keys.js';
import {
  itLeaksNoSecret,
  MINUTE,
  ORG_A,
  ORG_B,
  PASSWORD,
  refused,
  startSessionWorld,
  type SessionWorld,
} from '../support/session-world.js';

describe('admin session tokens (identity RPCs on PostgreSQL)', function () {
  this.timeout(120_000);
  let w: SessionWorld;
  before(async () => {
    w = await startSessionWorld();
  });
  after(() => w?.f.stop());

  describe('Authenticate with a session token', () => {
    it('authenticates a fresh access token as the ADMIN principal', async () => {
      const session = await w.login();
      const res = await w.authenticate(session.accessToken);
      assert.equal(res.authenticated, true);
      const p = res.principal;
      assert.equal(p?.kind, PrincipalKind.ADMIN);
      assert.equal(p?.orgId, ORG_A);
      assert.equal(p?.userId, w.aliceId);
      assert.equal(p?.subjectId, w.aliceId);
      assert.equal(p?.email, 'alice@alpha.example');
      assert.deepEqual(p?.roles, ['owner', 'auditor']);
      assert.equal(p?.sessionId, session.principal?.sessionId);
    });

    it('answers EXPIRED session_expired once the access token has expired', async () => {
      const session = await w.login();
      w.f.advance(15 * MINUTE + 3000);
      refused(await w.authenticate(session.accessToken), AuthFailure.EXPIRED, 'session_expired');
      // the session itself lives on: a refresh gives a token that works
      const next = await w.refresh(session.refreshToken);
      assert.equal((await w.authenticate(next.accessToken)).authenticated, true);
    });

    it('refuses a token signed by another key, even one with our kid (UNKNOWN invalid_session_token)', async () => {
      const session = await w.login();
      const claims = {
        userId: w.aliceId,
        orgId: ORG_A,
        roles: ['owner'],
        sessionId: session.principal?.sessionId ?? '',
      };
      const later = new Date(w.f.now().getTime() + 15 * MINUTE);
      for (const key of [testSigningKey(w.f.signingKey.keyId), testSigningKey('sk-other')]) {
        const forged = await signAccessToken(key, claims, w.f.now(), later);
        w.secrets.add(forged);
        const res = await w.authenticate(forged);
        refused(res, AuthFailure.UNKNOWN_CREDENTIAL, 'invalid_session_token');
        assert.equal(res.principal, undefined, 'names no org for a token we did not sign');
      }
    });

    it('refuses alg=none and HS256 tokens', async () => {
      const session = await w.login();
      const [header, payload] = session.accessToken.split('.');
      const body = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
        string,
        unknown
      >;
      const none = `${b64json({ alg: 'none', typ: 'at+jwt', kid: w.f.signingKey.keyId })}.${payload}.`;
      const hs256 = await new SignJWT(body)
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: w.f.signingKey.keyId })
        .sign(Buffer.from(w.f.signingKey.publicKey.export({ format: 'der', type: 'spki' })));
      assert.ok(header);
      for (const token of [none, hs256]) {
        refused(
          await w.authenticate(token),
          AuthFailure.UNKNOWN_CREDENTIAL,
          'invalid_session_token',
        );
      }
    });

    it('answers MALFORMED for a value that is not a JWT', async () => {
      refused(
        await w.authenticate('frt_org_alpha1.not-a-jwt'),
        AuthFailure.MALFORMED_CREDENTIAL,
        'invalid_session_token',
      );
    });

    it('answers MALFORMED ambiguous_credentials for an api key and a session token together', async () => {
      const session = await w.login();
      const res = await w.f.identity.authenticate({
        apiKey: `fk_live_${'A'.repeat(43)}`,
        sessionToken: session.accessToken,
      });
      refused(res, AuthFailure.MALFORMED_CREDENTIAL, 'ambiguous_credentials');
    });

    it('answers REVOKED user_disabled for a disabled user, whose refresh fails too', async () => {
      await w.f.admin.createUser({
        orgId: ORG_A,
        email: 'frank@alpha.example',
        password: PASSWORD,
        roles: ['viewer'],
      });
      const session = await w.login('frank@alpha.example');
      await w.f.pg.admin.query(
        "UPDATE identity.users SET disabled = true WHERE email = 'frank@alpha.example'",
      );
      const res = await w.authenticate(session.accessToken);
      refused(res, AuthFailure.REVOKED, 'user_disabled');
      assert.equal(res.principal?.orgId, ORG_A);
      await assert.rejects(
        w.refresh(session.refreshToken),
        w.failsWith(Code.Unauthenticated, 'user_disabled'),
      );
    });

    it('uses the stored roles, so a demotion applies to live tokens', async () => {
      await w.f.admin.createUser({
        orgId: ORG_A,
        email: 'grace@alpha.example',
        password: PASSWORD,
        roles: ['owner'],
      });
      const session = await w.login('grace@alpha.example');
      await w.f.pg.admin.query(
        "UPDATE identity.users SET roles = '{viewer}' WHERE email = 'grace@alpha.example'",
      );
      assert.deepEqual((await w.authenticate(session.accessToken)).principal?.roles, ['viewer']);
    });
  });

  describe('RefreshSession', () => {
    it('rotates: a new refresh and access token each time, in the same session', async () => {
      const first = await w.login();
      w.f.advance(MINUTE);
      const second = await w.refresh(first.refreshToken);
      assert.notEqual(second.refreshToken, first.refreshToken);
      assert.notEqual(second.accessToken, first.accessToken);
      const res = await w.authenticate(second.accessToken);
      assert.equal(res.principal?.sessionId, first.principal?.sessionId);
      const third = await w.refresh(second.refreshToken);
      assert.equal((await w.authenticate(third.accessToken)).authenticated, true);
    });

    it('treats a used token as stolen: refuses it, revokes the family, and the newest token and access token stop', async () => {
      const first = await w.login();
      const second = await w.refresh(first.refreshToken);
      assert.equal((await w.authenticate(second.accessToken)).authenticated, true);

      await assert.rejects(
        w.refresh(first.refreshToken),
        w.failsWith(Code.Unauthenticated, 'refresh_token_reuse'),
      );
      const sid = first.principal?.sessionId ?? '';
      assert.equal((await w.sessionRow(sid))?.revoked_reason, 'refresh_token_reuse');
      await assert.rejects(
        w.refresh(second.refreshToken),
        w.failsWith(Code.Unauthenticated, 'session_revoked'),
      );
      for (const token of [second.accessToken, first.accessToken]) {
        const res = await w.authenticate(token);
        refused(res, AuthFailure.REVOKED, 'session_revoked');
        assert.equal(res.principal?.orgId, ORG_A);
      }
      // presenting the used token again keeps failing as reuse, and changes nothing
      await assert.rejects(
        w.refresh(first.refreshToken),
        w.failsWith(Code.Unauthenticated, 'refresh_token_reuse'),
      );
    });

    it('lets exactly one of two concurrent uses of a token win; the other is reuse', async () => {
      const session = await w.login();
      const results = await Promise.allSettled([
        w.refresh(session.refreshToken),
        w.refresh(session.refreshToken),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      assert.equal(won.length, 1);
      assert.equal(lost.length, 1);
      w.failsWith(Code.Unauthenticated, 'refresh_token_reuse')(lost[0]?.reason);
      const sid = session.principal?.sessionId ?? '';
      assert.equal((await w.sessionRow(sid))?.revoked_reason, 'refresh_token_reuse');
    });

    it('ends at the absolute session lifetime (12 h), and never issues access beyond it', async () => {
      const session = await w.login();
      w.f.advance(12 * 60 * MINUTE - 5 * MINUTE);
      const late = await w.refresh(session.refreshToken);
      assert.ok(late.accessExpiresAt);
      assert.equal(
        timestampDate(late.accessExpiresAt).getTime(),
        w.f.now().getTime() + 5 * MINUTE,
        'capped at the session end, not 15 minutes',
      );
      w.f.advance(5 * MINUTE);
      await assert.rejects(
        w.refresh(late.refreshToken),
        w.failsWith(Code.Unauthenticated, 'session_expired'),
      );
    });

    const bad = [
      { name: 'an empty token', token: '' },
      { name: 'a token that was never issued', token: `frt_${ORG_A}.${'A'.repeat(43)}` },
      { name: 'an org key', token: `fk_live_${'A'.repeat(43)}` },
    ];
    for (const c of bad) {
      it(`refuses ${c.name} (Unauthenticated invalid_refresh_token)`, async () => {
        await assert.rejects(
          w.refresh(c.token),
          w.failsWith(Code.Unauthenticated, 'invalid_refresh_token'),
        );
      });
    }

    it("refuses a token whose org part was changed to another org's (tenant isolation)", async () => {
      const session = await w.login();
      const moved = session.refreshToken.replace(`frt_${ORG_A}.`, `frt_${ORG_B}.`);
      w.secrets.add(moved);
      await assert.rejects(
        w.refresh(moved),
        w.failsWith(Code.Unauthenticated, 'invalid_refresh_token'),
      );
      assert.ok((await w.refresh(session.refreshToken)).accessToken, 'the real one still works');
    });
  });

  describe('Logout', () => {
    it('revokes the family: refresh and access tokens stop; logging out again is fine', async () => {
      const session = await w.login();
      await w.f.admin.logout({ refreshToken: session.refreshToken });
      await w.f.admin.logout({ refreshToken: session.refreshToken });
      assert.equal(
        (await w.sessionRow(session.principal?.sessionId ?? ''))?.revoked_reason,
        'logout',
      );
      await assert.rejects(
        w.refresh(session.refreshToken),
        w.failsWith(Code.Unauthenticated, 'session_revoked'),
      );
      refused(await w.authenticate(session.accessToken), AuthFailure.REVOKED, 'session_revoked');
    });

    it('keeps the first reason when a reused family is logged out', async () => {
      const first = await w.login();
      await w.refresh(first.refreshToken);
      await assert.rejects(w.refresh(first.refreshToken));
      await w.f.admin.logout({ refreshToken: first.refreshToken });
      const row = await w.sessionRow(first.principal?.sessionId ?? '');
      assert.equal(row?.revoked_reason, 'refresh_token_reuse');
    });

    it('refuses a token it does not know (Unauthenticated invalid_refresh_token)', async () => {
      await assert.rejects(
        w.f.admin.logout({ refreshToken: `frt_${ORG_A}.${'B'.repeat(43)}` }),
        w.failsWith(Code.Unauthenticated, 'invalid_refresh_token'),
      );
    });
  });

  describe('secret hygiene', () => itLeaksNoSecret(() => w, 'refresh token reused'));
});
