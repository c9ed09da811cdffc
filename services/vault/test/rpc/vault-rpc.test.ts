import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { toBinary } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Client,
  type Interceptor,
} from '@connectrpc/connect';
import { PrincipalKind, Tier } from '@fortress/proto/common/v1/common_pb';
import {
  CredentialKind,
  GetCredentialResponseSchema,
  GetKeyConfigResponseSchema,
  ListCredentialsResponseSchema,
  RewrapJobState,
  VaultAdminService,
  VaultService,
} from '@fortress/proto/vault/v1/vault_pb';
import { signDecisionToken } from '@fortress/kit/decision-token';
import { remoteReason, toConnectError } from '@fortress/kit/errors';
import { peerIdKey } from '@fortress/kit/rpc-context';
import { spiffeId } from '@fortress/kit/tls';
import { SignJWT } from 'jose';
import type { VaultApp } from '../../src/wiring.js';
import { startVaultFixture, VAULT_PRINCIPAL, type VaultFixture } from '../support/vault-fixture.js';

const CANARY = `sk-ant-api03-RPC-${randomBytes(10).toString('hex')}`;

/** Clients of both vault services over an in-memory transport, as a given mTLS peer. */
function clientsAs(app: VaultApp, peer: string) {
  const asPeer: Interceptor = (next) => async (req) => {
    req.contextValues.set(peerIdKey, spiffeId(peer));
    try {
      return await next(req);
    } catch (err) {
      throw toConnectError(err);
    }
  };
  const transport = createRouterTransport(
    (router) => {
      router.service(VaultService, app.rpc);
      router.service(VaultAdminService, app.adminRpc);
    },
    { router: { interceptors: [asPeer] } },
  );
  return {
    vault: createClient(VaultService, transport),
    admin: createClient(VaultAdminService, transport),
  };
}

/** Expects a ConnectError with this code and stable reason. */
const failsWith = (code: Code, reason: string) => (err: unknown) => {
  assert.ok(err instanceof ConnectError, String(err));
  assert.equal(err.code, code, err.message);
  assert.equal(remoteReason(err), reason);
  assert.ok(!err.message.includes(CANARY), 'no secret in an error');
  return true;
};

describe('vault RPCs', function () {
  this.timeout(60_000);
  let f: VaultFixture;
  let app: VaultApp;
  let edge: { vault: Client<typeof VaultService>; admin: Client<typeof VaultAdminService> };
  let operator: typeof edge;
  before(async () => {
    f = await startVaultFixture();
    app = f.replica();
    edge = clientsAs(app, 'edge');
    operator = clientsAs(app, 'operator');
  });
  after(() => f?.stop());

  const resolveToken = (
    orgId: string,
    credentialRef: string,
    requestId: string,
    subjectId = 'usr_1',
  ) =>
    signDecisionToken(
      f.decisionKeys.privateKey,
      'k1',
      { orgId, subjectId, credentialRef, requestId, action: 'pat:messages.create' },
      30,
    );

  /** A session token as policy must sign it; `claims` overrides any of them. */
  const sessionToken = (
    orgId: string,
    requestId: string,
    claims: Record<string, unknown> = {},
    lifetimeS = 30,
  ) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      org: orgId,
      rid: requestId,
      act: 'vault:session.open',
      cred: 'vault:session',
      dev: 'dev_1',
      pst: 'compliant',
      ...claims,
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setIssuer('fortress-policy')
      .setAudience('vault')
      .setSubject('usr_1')
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + lifetimeS)
      .sign(f.decisionKeys.privateKey);
  };

  const principal = (orgId: string) => ({
    orgId,
    tier: Tier.ZERO_TRUST,
    kind: PrincipalKind.USER,
    subjectId: 'usr_1',
    deviceId: 'dev_1',
  });

  async function ztOrg(): Promise<string> {
    const orgId = `org_rpc${randomBytes(4).toString('hex')}`;
    const keyArn = await f.customerA.createKey();
    const grantId = await f.customerA.grant(keyArn, orgId);
    await operator.admin.setKeyConfig({
      config: {
        orgId,
        tier: Tier.ZERO_TRUST,
        kmsKeyId: keyArn,
        kmsEndpoint: f.customerA.kms.url,
        grantId,
      },
      actorId: 'usr_admin',
    });
    await operator.admin.putCredential({
      orgId,
      id: 'pat_1',
      label: 'PAT',
      kind: CredentialKind.ANTHROPIC_KEY,
      material: { secret: Buffer.from(CANARY) },
      actorId: 'usr_admin',
    });
    return orgId;
  }

  describe('admin: metadata only', () => {
    it('answers every admin call with metadata and never a byte of the secret', async () => {
      const orgId = `org_adm${randomBytes(4).toString('hex')}`;
      const put = await operator.admin.putCredential({
        orgId,
        id: 'pat_1',
        label: 'Production key',
        kind: CredentialKind.ANTHROPIC_KEY,
        material: { secret: Buffer.from(CANARY), fields: { extra: Buffer.from(`${CANARY}-f`) } },
        actorId: 'usr_admin',
      });
      assert.deepEqual(
        [put.credential?.label, put.credential?.lastFour, put.credential?.version],
        ['Production key', CANARY.slice(-4), 1],
      );
      const rotated = await operator.admin.rotateCredential({
        orgId,
        id: 'pat_1',
        material: { secret: Buffer.from(`${CANARY}-2`) },
        actorId: 'usr_admin',
      });
      assert.equal(rotated.credential?.version, 2);
      assert.ok(rotated.credential?.rotatedAt);
      const list = await operator.admin.listCredentials({ orgId });
      const got = await operator.admin.getCredential({ orgId, id: 'pat_1' });
      const config = await operator.admin.getKeyConfig({ orgId });
      for (const bytes of [
        Buffer.from(toBinary(ListCredentialsResponseSchema, list)),
        Buffer.from(toBinary(GetCredentialResponseSchema, got)),
        Buffer.from(toBinary(GetKeyConfigResponseSchema, config)),
      ])
        assert.equal(bytes.indexOf(Buffer.from(CANARY)), -1);
      assert.deepEqual(
        list.credentials.map((c) => c.version),
        [2],
      );
    });

    it('shows the Bank configuration with the principal to grant, and rotates on request', async () => {
      const orgId = `org_bnk${randomBytes(4).toString('hex')}`;
      const keyArn = await f.customerB.createKey();
      await assert.rejects(
        operator.admin.setKeyConfig({
          config: { orgId, tier: Tier.BANK, kmsKeyId: keyArn, kmsEndpoint: f.customerB.kms.url },
        }),
        failsWith(Code.FailedPrecondition, 'kms_access_denied'),
      );
      const grantId = await f.customerB.grant(keyArn, orgId);
      const set = await operator.admin.setKeyConfig({
        config: {
          orgId,
          tier: Tier.BANK,
          kmsKeyId: keyArn,
          kmsEndpoint: f.customerB.kms.url,
          grantId,
          rotationDays: 30,
        },
        actorId: 'usr_admin',
      });
      assert.deepEqual(
        [
          set.config?.tier,
          set.config?.granteePrincipal,
          set.config?.rotationDays,
          set.config?.dataKeyEpoch,
        ],
        [Tier.BANK, VAULT_PRINCIPAL, 30, 1],
      );
      const { jobId } = await operator.admin.rotateDataKey({ orgId, actorId: 'usr_admin' });
      // The RPC kicked the background worker; this run races it harmlessly (rows are locked).
      let job = await operator.admin.getRewrapJob({ orgId, jobId });
      for (let i = 0; i < 50 && job.job?.state !== RewrapJobState.DONE; i++) {
        await app.rewrap.run(orgId, 5000);
        job = await operator.admin.getRewrapJob({ orgId, jobId });
      }
      assert.deepEqual(
        [job.job?.state, job.job?.toEpoch, job.job?.remaining],
        [RewrapJobState.DONE, 2, 0],
      );
    });

    const badConfigs = [
      { name: 'no tier', config: { orgId: 'org_bad1' }, field: 'config.tier' },
      {
        name: 'a Bank org without a key',
        config: { orgId: 'org_bad1', tier: Tier.BANK },
        field: 'config.kms_key_id',
      },
      {
        name: 'an endpoint not allowed',
        config: {
          orgId: 'org_bad1',
          tier: Tier.BANK,
          kmsKeyId: 'k',
          kmsEndpoint: 'http://10.0.0.1',
        },
        field: 'config.kms_endpoint',
      },
    ];
    for (const c of badConfigs)
      it(`refuses a key configuration with ${c.name}`, async () => {
        await assert.rejects(operator.admin.setKeyConfig({ config: c.config }), (err: unknown) => {
          assert.ok(err instanceof ConnectError);
          assert.equal(err.code, Code.InvalidArgument);
          assert.equal(err.metadata.get('fortress-field'), c.field);
          return true;
        });
      });
  });

  describe('archive keys: the edge only, one per org and month, made by the vault alone', () => {
    it('makes the month’s key on first use and hands the same key out after, to the edge only', async () => {
      const orgId = `org_arc${randomBytes(4).toString('hex')}`;
      const first = await edge.vault.archiveKey({ orgId });
      const now = new Date();
      const month = `${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
      assert.equal(first.keyId, `arch_${month}`);
      assert.equal(first.key.length, 32);
      const again = await edge.vault.archiveKey({ orgId });
      assert.ok(Buffer.from(again.key).equals(Buffer.from(first.key)));
      const named = await edge.vault.archiveKey({ orgId, keyId: first.keyId });
      assert.ok(Buffer.from(named.key).equals(Buffer.from(first.key)));
      // Another org's key is another key.
      const other = await edge.vault.archiveKey({
        orgId: `org_arc${randomBytes(4).toString('hex')}`,
      });
      assert.ok(!Buffer.from(other.key).equals(Buffer.from(first.key)));
      await assert.rejects(
        operator.vault.archiveKey({ orgId }),
        failsWith(Code.PermissionDenied, 'caller_not_edge'),
      );
      await assert.rejects(
        edge.vault.archiveKey({ orgId, keyId: 'arch_209912' }),
        failsWith(Code.NotFound, 'credential_not_found'),
      );
      await assert.rejects(
        edge.vault.archiveKey({ orgId, keyId: 'pat_1' }),
        failsWith(Code.InvalidArgument, 'invalid_argument'),
      );
      // Metadata lists it like any credential; its secret never shows.
      const listed = await operator.admin.getCredential({ orgId, id: first.keyId });
      assert.equal(listed.credential?.kind, CredentialKind.ARCHIVE_KEY);
      assert.equal(listed.credential?.lastFour, '');
    });

    it('refuses an archive key put or rotated by an admin (a key someone chose could read the archive)', async () => {
      const orgId = `org_arc${randomBytes(4).toString('hex')}`;
      await assert.rejects(
        operator.admin.putCredential({
          orgId,
          id: 'arch_202611',
          label: 'planted',
          kind: CredentialKind.API_KEY,
          material: { secret: Buffer.from(CANARY) },
        }),
        failsWith(Code.InvalidArgument, 'invalid_argument'),
      );
      await assert.rejects(
        operator.admin.putCredential({
          orgId,
          id: 'cred_x',
          label: 'planted',
          kind: CredentialKind.ARCHIVE_KEY,
          material: { secret: Buffer.from(CANARY) },
        }),
        failsWith(Code.InvalidArgument, 'invalid_argument'),
      );
      await edge.vault.archiveKey({ orgId });
      const { keyId } = await edge.vault.archiveKey({ orgId });
      await assert.rejects(
        operator.admin.rotateCredential({
          orgId,
          id: keyId,
          material: { secret: Buffer.from(CANARY) },
        }),
        failsWith(Code.InvalidArgument, 'invalid_argument'),
      );
    });

    it('has no archive key for a Zero Trust org (the vault cannot open its keys alone)', async () => {
      const orgId = await ztOrg();
      await assert.rejects(
        edge.vault.archiveKey({ orgId }),
        failsWith(Code.PermissionDenied, 'session_required'),
      );
    });
  });

  describe('resolve and sessions: the edge only, with a valid token', () => {
    it('refuses every request-path RPC to a caller that is not the edge', async () => {
      const orgId = await ztOrg();
      const rid = 'req_1';
      await assert.rejects(
        operator.vault.resolveCredential({
          orgId,
          credentialRef: 'pat_1',
          requestId: rid,
          decisionToken: await resolveToken(orgId, 'pat_1', rid),
        }),
        failsWith(Code.PermissionDenied, 'caller_not_edge'),
      );
      await assert.rejects(
        operator.vault.openSession({
          principal: principal(orgId),
          requestId: rid,
          decisionToken: await sessionToken(orgId, rid),
        }),
        failsWith(Code.PermissionDenied, 'caller_not_edge'),
      );
      await assert.rejects(
        operator.vault.closeSession({ orgId, sessionId: 'ses_x' }),
        failsWith(Code.PermissionDenied, 'caller_not_edge'),
      );
    });

    it('opens a session for as long as asked, capped at the longest the vault allows', async () => {
      const orgId = await ztOrg();
      const open = async (rid: string, ttlMs: number) => {
        const before = Date.now();
        const opened = await edge.vault.openSession({
          principal: principal(orgId),
          requestId: rid,
          decisionToken: await sessionToken(orgId, rid),
          ttlMs,
        });
        await edge.vault.closeSession({ orgId, sessionId: opened.sessionId });
        assert.ok(opened.expiresAt);
        return timestampDate(opened.expiresAt).getTime() - before;
      };
      const short = await open('req_ttl1', 5_000);
      assert.ok(short > 4_000 && short <= 6_000, `a 5 s session lives ${short} ms`);
      const longest = await open('req_ttl2', 0);
      assert.ok(longest > 60_000, `an unbounded ask gets the vault's longest (${longest} ms)`);
      assert.ok((await open('req_ttl3', 2 ** 31)) <= longest + 1_000, 'never more than that');
    });

    it("opens a Zero Trust org's archive key inside a session of the same subject only", async () => {
      const orgId = await ztOrg();
      const rid = 'req_arch1';
      const opened = await edge.vault.openSession({
        principal: principal(orgId),
        requestId: rid,
        decisionToken: await sessionToken(orgId, rid),
      });
      try {
        const subjectId = principal(orgId).subjectId;
        const key = await edge.vault.archiveKey({ orgId, sessionId: opened.sessionId, subjectId });
        assert.equal(key.key.length, 32);
        const again = await edge.vault.archiveKey({
          orgId,
          keyId: key.keyId,
          sessionId: opened.sessionId,
          subjectId,
        });
        assert.deepEqual(again.key, key.key);
        await assert.rejects(
          edge.vault.archiveKey({ orgId, sessionId: opened.sessionId, subjectId: 'usr_other' }),
          failsWith(Code.PermissionDenied, 'session_wrong_principal'),
        );
        await assert.rejects(
          edge.vault.archiveKey({ orgId, sessionId: opened.sessionId }),
          (err: unknown) => err instanceof ConnectError && err.code === Code.InvalidArgument,
        );
      } finally {
        await edge.vault.closeSession({ orgId, sessionId: opened.sessionId });
      }
    });

    it('opens a session, resolves through it, and nothing after CloseSession', async () => {
      const orgId = await ztOrg();
      const rid = 'req_open1';
      const opened = await edge.vault.openSession({
        principal: principal(orgId),
        requestId: rid,
        decisionToken: await sessionToken(orgId, rid),
      });
      assert.match(opened.sessionId, /^ses_/);
      assert.ok(opened.expiresAt);
      const resolve = async () =>
        edge.vault.resolveCredential({
          orgId,
          credentialRef: 'pat_1',
          requestId: 'req_r1',
          sessionId: opened.sessionId,
          decisionToken: await resolveToken(orgId, 'pat_1', 'req_r1'),
        });
      assert.equal(Buffer.from((await resolve()).material?.secret ?? []).toString(), CANARY);
      await assert.rejects(
        edge.vault.resolveCredential({
          orgId,
          credentialRef: 'pat_1',
          requestId: 'req_r2',
          decisionToken: await resolveToken(orgId, 'pat_1', 'req_r2'),
        }),
        failsWith(Code.PermissionDenied, 'session_required'),
      );
      await assert.rejects(
        edge.vault.resolveCredential({
          orgId,
          credentialRef: 'pat_1',
          requestId: 'req_r3',
          sessionId: opened.sessionId,
          decisionToken: await resolveToken(orgId, 'pat_1', 'req_r3', 'usr_other'),
        }),
        failsWith(Code.PermissionDenied, 'session_wrong_principal'),
      );
      await edge.vault.closeSession({ orgId, sessionId: opened.sessionId });
      await assert.rejects(resolve(), failsWith(Code.PermissionDenied, 'session_not_found'));
    });

    const badTokens: Array<{
      name: string;
      token: (orgId: string, rid: string) => Promise<string>;
      reason: string;
    }> = [
      { name: 'no token', token: () => Promise.resolve(''), reason: 'decision_token_missing' },
      {
        name: 'a resolve token (wrong action)',
        token: (o, r) => resolveToken(o, 'vault:session', r),
        reason: 'decision_token_invalid',
      },
      {
        name: 'another action',
        token: (o, r) => sessionToken(o, r, { act: 'pat:messages.create' }),
        reason: 'decision_token_wrong_binding',
      },
      {
        name: 'another device',
        token: (o, r) => sessionToken(o, r, { dev: 'dev_2' }),
        reason: 'decision_token_wrong_binding',
      },
      {
        name: 'no compliant posture',
        token: (o, r) => sessionToken(o, r, { pst: 'noncompliant' }),
        reason: 'decision_token_wrong_binding',
      },
      {
        name: 'another request',
        token: (o) => sessionToken(o, 'req_other'),
        reason: 'decision_token_wrong_binding',
      },
      {
        name: 'another org',
        token: (_, r) => sessionToken('org_other', r),
        reason: 'decision_token_wrong_binding',
      },
      {
        name: 'a lifetime over 60 s',
        token: (o, r) => sessionToken(o, r, {}, 600),
        reason: 'decision_token_invalid',
      },
      {
        name: 'an expired token',
        token: (o, r) => sessionToken(o, r, {}, -60),
        reason: 'decision_token_expired',
      },
    ];
    for (const t of badTokens)
      it(`refuses to open a session with ${t.name}`, async () => {
        const orgId = await ztOrg();
        const rid = 'req_bad';
        await assert.rejects(
          edge.vault.openSession({
            principal: principal(orgId),
            requestId: rid,
            decisionToken: await t.token(orgId, rid),
          }),
          failsWith(Code.PermissionDenied, t.reason),
        );
      });

    it('opens one session per token: a replayed token is refused', async () => {
      const orgId = await ztOrg();
      const token = await sessionToken(orgId, 'req_once');
      const req = { principal: principal(orgId), requestId: 'req_once', decisionToken: token };
      await edge.vault.openSession(req);
      await assert.rejects(
        edge.vault.openSession(req),
        failsWith(Code.PermissionDenied, 'decision_token_invalid'),
      );
    });

    it('opens no session for an org that is not Zero Trust', async () => {
      const orgId = `org_soho${randomBytes(4).toString('hex')}`;
      await assert.rejects(
        edge.vault.openSession({
          principal: principal(orgId),
          requestId: 'r',
          decisionToken: await sessionToken(orgId, 'r'),
        }),
        failsWith(Code.FailedPrecondition, 'session_not_applicable'),
      );
    });

    it('refuses a retired version with its own reason over the wire', async () => {
      const orgId = `org_ver${randomBytes(4).toString('hex')}`;
      await operator.admin.putCredential({
        orgId,
        id: 'pat_1',
        label: 'x',
        kind: CredentialKind.ANTHROPIC_KEY,
        material: { secret: Buffer.from(CANARY) },
      });
      await operator.admin.rotateCredential({
        orgId,
        id: 'pat_1',
        material: { secret: Buffer.from(`${CANARY}-2`) },
        overlapSeconds: 60,
      });
      const pinned = async (version: number) =>
        edge.vault.resolveCredential({
          orgId,
          credentialRef: 'pat_1',
          requestId: 'r',
          version,
          decisionToken: await resolveToken(orgId, 'pat_1', 'r'),
        });
      assert.equal((await pinned(1)).version, 1);
      await f.fx.admin.query(
        'UPDATE vault.credentials SET overlap_until = now() WHERE org_id = $1 AND version = 1',
        [orgId],
      );
      await assert.rejects(
        pinned(1),
        failsWith(Code.FailedPrecondition, 'credential_version_retired'),
      );
      assert.equal((await pinned(0)).version, 2);
    });
  });
});
