import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KMSClient, RevokeGrantCommand } from '@aws-sdk/client-kms';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { importJWK, SignJWT, type JWK } from 'jose';
import { Decision, PrincipalKind, Tier } from '@fortress/proto/common/v1/common_pb';
import { CredentialKind } from '@fortress/proto/vault/v1/vault_pb';
import { customerKeyFor } from '@fortress/harness/stack/customer-kms';
import { operatorClients, type OperatorClients } from '@fortress/harness/stack/operator-clients';
import { CUSTOMER_KMS_CREDENTIALS } from '@fortress/harness/stack/stack';
import { AUDIT_STREAM } from '@fortress/kit/event-bus';
import { remoteReason } from '@fortress/kit/errors';
import { eventually, useStack, type TestStack } from './support/stack.js';

/** Canary secrets of this file: none may appear anywhere but as ciphertext. */
const CANARIES = [
  `sk-ant-api03-VAULTE2E-bank-${randomBytes(12).toString('hex')}`,
  `sk-ant-api03-VAULTE2E-zt-${randomBytes(12).toString('hex')}`,
  `sk-ant-api03-VAULTE2E-rot-${randomBytes(12).toString('hex')}`,
];
const [BANK_SECRET = '', ZT_SECRET = '', ROTATED_SECRET = ''] = CANARIES;

describe('vault tiers through the whole stack', () => {
  let stack: TestStack;
  let asEdge: OperatorClients;
  let customer: KMSClient;
  const errorBodies: string[] = [];

  /** Signs a token with policy's real key: the claims policy signs for the vault. */
  async function policySigned(claims: Record<string, unknown>, subject = 'usr_e2e') {
    const jwk = JSON.parse(
      readFileSync(join(stack.dataDir, 'keys', 'decision-signing.jwk'), 'utf8'),
    ) as JWK;
    const key = await importJWK(jwk, 'EdDSA');
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid ?? '' })
      .setIssuer('fortress-policy')
      .setAudience('vault')
      .setSubject(subject)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('30s')
      .sign(key);
  }

  const resolveAsEdge = async (
    clients: OperatorClients,
    orgId: string,
    credentialRef: string,
    sessionId = '',
  ) => {
    const requestId = `req_${randomBytes(6).toString('hex')}`;
    const decisionToken = await policySigned({
      org: orgId,
      cred: credentialRef,
      rid: requestId,
      act: 'pat:messages.create',
    });
    try {
      const res = await clients.vault.resolveCredential({
        orgId,
        credentialRef,
        requestId,
        decisionToken,
        sessionId,
      });
      return Buffer.from(res.material?.secret ?? []).toString();
    } catch (err) {
      if (err instanceof ConnectError) errorBodies.push(err.rawMessage);
      throw err;
    }
  };

  /** A key in the customer's KMS account, granted to the vault for one org. */
  const customerKey = (orgId: string) => customerKeyFor(customer, orgId, stack.vaultKmsPrincipal);

  const putCredential = (orgId: string, id: string, secret: string, expiresAt?: Date) =>
    stack.operator.vaultAdmin.putCredential({
      orgId,
      id,
      label: `${id} label`,
      kind: CredentialKind.ANTHROPIC_KEY,
      material: { secret: Buffer.from(secret) },
      actorId: 'usr_e2e_admin',
      ...(expiresAt ? { expiresAt: timestampFromDate(expiresAt) } : {}),
    });

  const deniedWith = (code: Code, reason: string) => (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(remoteReason(err), reason);
    return true;
  };

  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    asEdge = operatorClients(stack.tlsDir, stack.urls, 'edge');
    customer = new KMSClient({
      region: stack.customerKms.region,
      endpoint: stack.customerKms.url,
      credentials: CUSTOMER_KMS_CREDENTIALS,
      maxAttempts: 1,
    });
  });
  after(() => customer?.destroy());

  it("Bank: resolves through the customer's grant; once revoked, a replica without the key cached refuses at once", async function () {
    this.timeout(60_000);
    const orgId = `org_e2ebank${randomBytes(4).toString('hex')}`;
    const { keyArn, grantId } = await customerKey(orgId);
    const set = await stack.operator.vaultAdmin.setKeyConfig({
      config: {
        orgId,
        tier: Tier.BANK,
        kmsKeyId: keyArn,
        kmsEndpoint: stack.customerKms.url,
        grantId,
      },
      actorId: 'usr_e2e_admin',
    });
    assert.equal(set.config?.granteePrincipal, stack.vaultKmsPrincipal);
    await putCredential(orgId, 'pat_bank', BANK_SECRET);
    assert.equal(await resolveAsEdge(asEdge, orgId, 'pat_bank'), BANK_SECRET);
    await customer.send(new RevokeGrantCommand({ KeyId: keyArn, GrantId: grantId }));
    const replica = await stack.startReplica('vault');
    const replicaClients = operatorClients(
      stack.tlsDir,
      { ...stack.urls, vault: `https://127.0.0.1:${replica.ports.grpcPort ?? 0}` },
      'edge',
    );
    try {
      await assert.rejects(
        resolveAsEdge(replicaClients, orgId, 'pat_bank'),
        deniedWith(Code.FailedPrecondition, 'kms_access_denied'),
      );
    } finally {
      await replica.stop();
    }
  });

  it('Zero Trust: nothing resolves without a session; a session opened with a policy session token serves until closed', async () => {
    const orgId = `org_e2ezt${randomBytes(4).toString('hex')}`;
    const { keyArn, grantId } = await customerKey(orgId);
    await stack.operator.vaultAdmin.setKeyConfig({
      config: {
        orgId,
        tier: Tier.ZERO_TRUST,
        kmsKeyId: keyArn,
        kmsEndpoint: stack.customerKms.url,
        grantId,
      },
      actorId: 'usr_e2e_admin',
    });
    await putCredential(orgId, 'pat_zt', ZT_SECRET);
    await assert.rejects(
      resolveAsEdge(asEdge, orgId, 'pat_zt'),
      deniedWith(Code.PermissionDenied, 'session_required'),
    );
    const requestId = `req_${randomBytes(6).toString('hex')}`;
    const principal = {
      orgId,
      tier: Tier.ZERO_TRUST,
      kind: PrincipalKind.USER,
      subjectId: 'usr_e2e',
      deviceId: 'dev_e2e',
    };
    // Policy signs a session token only for a verified user on a compliant device.
    const ask = (deviceCompliant: boolean) =>
      stack.operator.policy.decide({
        principal,
        action: 'vault:session.open',
        context: { requestId },
        deviceCompliant,
      });
    const refused = await ask(false);
    assert.equal(refused.decision, Decision.DENY);
    assert.equal(refused.reasons[0]?.code, 'device_noncompliant');
    assert.equal(refused.decisionToken, '');
    const sessionToken = (await ask(true)).decisionToken;
    assert.ok(sessionToken);
    await assert.rejects(
      stack.operator.vault.openSession({ principal, requestId, decisionToken: sessionToken }),
      deniedWith(Code.PermissionDenied, 'caller_not_edge'),
    );
    const session = await asEdge.vault.openSession({
      principal,
      requestId,
      decisionToken: sessionToken,
    });
    assert.equal(await resolveAsEdge(asEdge, orgId, 'pat_zt', session.sessionId), ZT_SECRET);
    await asEdge.vault.closeSession({ orgId, sessionId: session.sessionId });
    await assert.rejects(
      resolveAsEdge(asEdge, orgId, 'pat_zt', session.sessionId),
      deniedWith(Code.PermissionDenied, 'session_not_found'),
    );
  });

  it('records rotations and key changes in the audit log, and credential.expiring seven days ahead', async function () {
    this.timeout(30_000);
    const org = await stack.seed();
    await stack.operator.vaultAdmin.rotateCredential({
      orgId: org.orgId,
      id: org.patKeyId,
      material: { secret: Buffer.from(ROTATED_SECRET) },
      actorId: 'usr_e2e_admin',
    });
    await stack.operator.vaultAdmin.rotateDataKey({ orgId: org.orgId, actorId: 'usr_e2e_admin' });
    await putCredential(
      org.orgId,
      'cred_expiring',
      `${ROTATED_SECRET}-x`,
      new Date(Date.now() + 2 * 86_400_000),
    );
    const wanted = [
      'change:credential:create',
      'change:credential:rotate',
      'change:data_key:rotate',
      'change:data_key:update',
      'notification:credential.expiring',
    ];
    const seen = await eventually(
      async () => {
        const rows = await stack.auditRows(org.orgId);
        const kinds = rows.map((r) => {
          const e = r.event as {
            change?: { entityType: string; operation: string };
            notification?: { type: string };
          };
          return e.change
            ? `change:${e.change.entityType}:${e.change.operation}`
            : e.notification
              ? `notification:${e.notification.type}`
              : r.kind;
        });
        return wanted.every((w) => kinds.includes(w)) ? kinds : undefined;
      },
      'the vault events in the audit log',
      20_000,
    );
    assert.equal(seen.filter((k) => k === 'change:credential:rotate').length, 1);
    // The rotated key still serves its overlap; the new one is active.
    assert.equal(await resolveAsEdge(asEdge, org.orgId, org.patKeyId), ROTATED_SECRET);
  });

  describe('canaries', () => {
    const assertClean = (where: string, texts: readonly string[]) => {
      for (const canary of CANARIES)
        assert.equal(
          texts.find((t) => t.includes(canary)),
          undefined,
          `a canary in ${where}`,
        );
    };

    it('are in no log line of any service', () => {
      for (const service of Object.values(stack.services))
        assertClean(`${service.name} logs`, service.lines);
      assert.ok(stack.services.vault.lines.length > 0);
    });

    it('are in no error body', () => {
      assert.ok(errorBodies.length >= 3, 'errors were collected');
      assertClean('error bodies', errorBodies);
    });

    it('are in no span attribute', async () => {
      await eventually(
        () =>
          stack.collector.raw.some((r) => r.includes('VaultAdminService/RotateCredential'))
            ? true
            : undefined,
        'the vault spans',
      );
      assertClean('spans', stack.collector.raw);
    });

    it('are in no NATS message', async () => {
      const nc = await connect({ servers: stack.nats.url });
      try {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.streams.info(AUDIT_STREAM);
        const payloads: string[] = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const m = await jsm.streams.getMessage(AUDIT_STREAM, { seq }).catch(() => null);
          if (m) payloads.push(Buffer.from(m.data).toString('latin1'));
        }
        assert.ok(
          payloads.some((p) => p.includes('credential.expiring')),
          'the vault published',
        );
        assertClean('NATS messages', payloads);
      } finally {
        await nc.close();
      }
    });

    it('are in no PostgreSQL row, other than as ciphertext', async () => {
      const admin = new pg.Client({ connectionString: stack.adminDatabaseUrl });
      await admin.connect();
      try {
        const tables = await admin.query<{ schema: string; name: string }>(
          `SELECT schemaname AS schema, tablename AS name FROM pg_tables
           WHERE schemaname IN ('identity', 'posture', 'policy', 'vault', 'audit')`,
        );
        for (const t of tables.rows) {
          const rows = await admin.query<{ row: string }>(
            `SELECT t::text AS row FROM ${t.schema}.${t.name} t`,
          );
          assertClean(
            `${t.schema}.${t.name}`,
            rows.rows.map((r) => r.row),
          );
        }
        // Binary columns as raw bytes too: ciphertexts, wrapped keys, outbox envelopes, …
        const binary = await admin.query<{ schema: string; name: string; col: string }>(
          `SELECT table_schema AS schema, table_name AS name, column_name AS col FROM information_schema.columns
           WHERE data_type = 'bytea' AND table_schema IN ('identity', 'posture', 'policy', 'vault', 'audit')`,
        );
        assert.ok(binary.rows.some((c) => c.col === 'ciphertext'));
        for (const c of binary.rows) {
          const { rows } = await admin.query<{ b: Buffer | null }>(
            `SELECT ${c.col} AS b FROM ${c.schema}.${c.name}`,
          );
          for (const r of rows)
            for (const canary of CANARIES)
              assert.equal(
                r.b?.indexOf(Buffer.from(canary)) ?? -1,
                -1,
                `${c.schema}.${c.name}.${c.col}`,
              );
        }
      } finally {
        await admin.end();
      }
    });
  });
});
