import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { KMSClient, RevokeGrantCommand } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import Anthropic from '@anthropic-ai/sdk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pg from 'pg';
import { PrincipalKind, Tier } from '@fortress/proto/common/v1/common_pb';
import { startFakeZendesk, type FakeZendesk } from '@fortress/sandbox/saas/zendesk';
import { startTestIdp, TEST_IDP_AUDIENCE, type TestIdp } from '@fortress/harness/idp/test-idp';
import { customerKeyFor } from '@fortress/harness/stack/customer-kms';
import { operatorClients } from '@fortress/harness/stack/operator-clients';
import { CUSTOMER_KMS_CREDENTIALS } from '@fortress/harness/stack/stack';
import type { SeededOrg } from '@fortress/harness/stack/seed';
import { openRecord } from '../services/edge/src/archive/archive-crypto.js';
import { addZendeskTool } from './support/mcp.js';
import {
  adminSession,
  ALLOWED_MODEL,
  archivedRecord,
  eventually,
  objectStoreClient,
  postMessages,
  useStack,
  type TestStack,
} from './support/stack.js';

/** A user of the Zero Trust org, on her managed laptop. */
const USER = { oid: 'oid-zoe', email: 'zoe@zt.example', deviceid: 'dev-zoe-laptop' };

/** A Zero Trust org: its key pair in the customer's KMS, an IdP, and posture verdicts. */
interface ZeroTrustOrg {
  org: SeededOrg;
  customer: KMSClient;
  keyArn: string;
  grantId: string;
  /** Posture's verdict for a device, as an MDM adapter would cache it. */
  setDevice(deviceId: string, compliant: boolean, reason?: string | null): Promise<unknown>;
  /** The org key and an IdP token of USER on a device. */
  asUser(deviceid?: string): Promise<Record<string, string>>;
  /** How many times the customer's KMS has decrypted for anyone. */
  customerDecrypts(): number;
  close(): Promise<void>;
}

async function zeroTrustOrg(
  stack: TestStack,
  idp: TestIdp,
  extra: { groupRoles?: Array<{ group: string; roles: string[] }> } = {},
): Promise<ZeroTrustOrg> {
  const admin = new pg.Pool({ connectionString: stack.adminDatabaseUrl, max: 2 });
  const customer = new KMSClient({
    region: stack.customerKms.region,
    endpoint: stack.customerKms.url,
    credentials: CUSTOMER_KMS_CREDENTIALS,
    maxAttempts: 1,
  });
  const orgId = `org_zt${randomBytes(4).toString('hex')}`;
  // The org's key pair lives in the customer's KMS; the vault holds a grant, never the key.
  const { keyArn, grantId } = await customerKeyFor(customer, orgId, stack.vaultKmsPrincipal);
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
  const org = await stack.seed({ orgId, tier: Tier.ZERO_TRUST });
  await stack.operator.identityAdmin.setIdpConfig({
    orgId,
    config: {
      issuer: idp.issuer,
      audiences: [TEST_IDP_AUDIENCE],
      jwksUri: idp.jwksUri,
      userIdClaim: 'oid',
      deviceIdClaim: 'deviceid',
      groupsClaim: 'groups',
      groupRoles: extra.groupRoles ?? [],
    },
  });
  const setDevice = (deviceId: string, compliant: boolean, reason: string | null = null) =>
    admin.query(
      `INSERT INTO posture.devices (org_id, device_id, compliant, reason, last_checked_at, valid_until)
       VALUES ($1, $2, $3, $4, now(), now() + interval '15 minutes')
       ON CONFLICT (org_id, device_id) DO UPDATE SET compliant = $3, reason = $4`,
      [orgId, deviceId, compliant, reason],
    );
  await setDevice(USER.deviceid, true);
  return {
    org,
    customer,
    keyArn,
    grantId,
    setDevice,
    asUser: async (deviceid = USER.deviceid) => ({
      'x-api-key': org.orgKey,
      authorization: `Bearer ${await idp.mintToken({ ...USER, deviceid, groups: ['g-support'] })}`,
    }),
    customerDecrypts: () => stack.customerKms.calls()['Decrypt'] ?? 0,
    close: async () => {
      customer.destroy();
      await admin.end();
    },
  };
}

describe('PAT Fortress for a Zero Trust org: identity, device, then a per-request vault session', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let idp: TestIdp;
  let zt: ZeroTrustOrg;
  let org: SeededOrg;
  let s3: S3Client;

  /** A request body with a marker of its own, and whether that request reached the upstream. */
  const probe = () => {
    const marker = `zt-probe-${randomBytes(6).toString('hex')}`;
    return {
      body: JSON.stringify({
        model: ALLOWED_MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: marker }],
      }),
      reached: () => stack.sandbox.requests.filter((r) => r.body.includes(marker)),
    };
  };
  const asUser = (deviceid?: string) => zt.asUser(deviceid);
  const customerDecrypts = () => zt.customerDecrypts();

  before(async function () {
    this.timeout(180_000);
    [stack, idp] = await Promise.all([useStack(), startTestIdp()]);
    s3 = objectStoreClient(stack);
    zt = await zeroTrustOrg(stack, idp);
    org = zt.org;
  });
  after(async () => {
    s3?.destroy();
    await zt?.close();
    await idp?.stop();
  });

  it("serves a verified user on a compliant device, fetching the org's key from the customer's KMS for that request alone", async () => {
    const before = customerDecrypts();
    let lastRequestId = '';
    for (let i = 0; i < 2; i++) {
      const p = probe();
      const res = await postMessages(stack.edgeUrl, { headers: await asUser(), body: p.body });
      lastRequestId = res.headers.get('x-fortress-request-id') ?? '';
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.type, 'message');
      const sent = p.reached();
      assert.equal(sent.length, 1);
      assert.equal(sent[0]?.headers['x-api-key'], stack.sandboxAnthropicKey);
    }
    // One session per request: the private key is fetched each time, never kept between.
    assert.equal(customerDecrypts() - before, 2);
    // Both decisions of the last request are audited, the session's after the request's.
    const requestId = lastRequestId;
    const decisions = await eventually(async () => {
      const rows = (await stack.auditRows(org.orgId)).filter(
        (r) => r.kind === 'decision' && r.request_id === requestId,
      );
      return rows.length >= 2 ? rows : undefined;
    }, 'the request and session decisions');
    assert.deepEqual(
      decisions.map((r) => [r.action, r.decision]),
      [
        ['pat:messages.create', 'allow'],
        ['vault:session.open', 'allow'],
      ],
    );
  });

  it('serves the official SDK through an exchanged Fortress token, which keeps the device', async () => {
    const exchanged = await fetch(`${stack.edgeUrl}/v1/fortress/token`, {
      method: 'POST',
      headers: await asUser(),
    });
    assert.equal(exchanged.status, 200);
    const { token } = (await exchanged.json()) as { token: string };
    stack.issuedSecrets.push(token);
    const client = new Anthropic({ baseURL: stack.edgeUrl, apiKey: token, maxRetries: 0 });
    const message = await client.messages.create({
      model: ALLOWED_MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hello from a managed laptop' }],
    });
    assert.equal(message.type, 'message');
  });

  it('refuses a noncompliant or unknown device before any key is fetched, and audits it', async () => {
    await zt.setDevice('dev-zoe-jailbroken', false, 'os_outdated');
    const before = customerDecrypts();
    for (const device of ['dev-zoe-jailbroken', 'dev-never-seen']) {
      const p = probe();
      const res = await postMessages(stack.edgeUrl, {
        headers: await asUser(device),
        body: p.body,
      });
      assert.equal(res.status, 403, JSON.stringify(res.json));
      assert.equal(res.json.error?.type, 'device_noncompliant');
      assert.equal(p.reached().length, 0);
    }
    assert.equal(customerDecrypts(), before, 'no key fetched for a device that failed');
    const rows = await eventually(async () => {
      const denied = (await stack.auditRows(org.orgId)).filter(
        (r) => r.kind === 'decision' && r.decision === 'deny',
      );
      return denied.length >= 2 ? denied : undefined;
    }, 'two audited denials');
    assert.ok(rows.every((r) => r.reasons.length > 0));
  });

  it('archives the exchange sealed with a key that opens only in a session, and an admin sign-in (no device) cannot read it', async () => {
    const res = await postMessages(stack.edgeUrl, {
      headers: await asUser(),
      body: JSON.stringify({
        model: ALLOWED_MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'zero trust archive probe' }],
      }),
    });
    assert.equal(res.status, 200);
    const requestId = res.headers.get('x-fortress-request-id') ?? '';
    const { sealed } = await archivedRecord(stack, s3, org.orgId, requestId);
    assert.equal(sealed.org_id, org.orgId);
    assert.ok(!JSON.stringify(sealed).includes('zero trust archive probe'));

    const auditor = await adminSession(stack, org.orgId, 'auditor');
    const read = await fetch(`${stack.edgeUrl}/api/v1/archive/${requestId}`, {
      headers: { authorization: `Bearer ${auditor}` },
    });
    // An admin sign-in has no device, and a Zero Trust org requires one for every call.
    assert.equal(read.status, 403);
    assert.equal(((await read.json()) as { code?: string }).code, 'no_device_evidence');

    // Inside a session (a verified user on a compliant device) the vault opens the key, and
    // the object holds the exchange.
    const asEdge = operatorClients(stack.tlsDir, stack.urls, 'edge');
    const principal = {
      orgId: org.orgId,
      tier: Tier.ZERO_TRUST,
      kind: PrincipalKind.USER,
      subjectId: 'usr_zt_auditor',
      deviceId: 'dev-zt-auditor',
    };
    const sessionRequest = `req_${randomBytes(6).toString('hex')}`;
    const token = (
      await stack.operator.policy.decide({
        principal,
        action: 'vault:session.open',
        context: { requestId: sessionRequest },
        deviceCompliant: true,
      })
    ).decisionToken;
    const session = await asEdge.vault.openSession({
      principal,
      requestId: sessionRequest,
      decisionToken: token,
    });
    try {
      await assert.rejects(asEdge.vault.archiveKey({ orgId: org.orgId, keyId: sealed.key_id }));
      const key = await asEdge.vault.archiveKey({
        orgId: org.orgId,
        keyId: sealed.key_id,
        sessionId: session.sessionId,
        subjectId: principal.subjectId,
      });
      const record = JSON.parse(openRecord(sealed, key.key).toString('utf8')) as {
        request: { body_base64: string };
        actor: { device_id: string };
      };
      assert.match(
        Buffer.from(record.request.body_base64, 'base64').toString(),
        /zero trust archive probe/,
      );
      assert.equal(record.actor.device_id, USER.deviceid);
    } finally {
      await asEdge.vault.closeSession({ orgId: org.orgId, sessionId: session.sessionId });
    }
  });

  it("fails closed at once when the customer revokes the vault's grant: no key was kept", async () => {
    await zt.customer.send(new RevokeGrantCommand({ KeyId: zt.keyArn, GrantId: zt.grantId }));
    const p = probe();
    const res = await postMessages(stack.edgeUrl, { headers: await asUser(), body: p.body });
    assert.equal(res.status, 503, JSON.stringify(res.json));
    assert.equal(p.reached().length, 0, 'nothing reached the upstream');
  });
});

describe('MCP Fortress for a Zero Trust org: a tool call opens a vault session for its credential', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let idp: TestIdp;
  let zendesk: FakeZendesk;
  let zt: ZeroTrustOrg;
  let mcpKey: string;

  const connect = async (headers: Record<string, string>) => {
    const client = new Client({ name: 'zt-client', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${stack.edgeUrl}/v1/mcp`), {
        requestInit: { headers },
      }),
    );
    return client;
  };
  const asUser = async (deviceid?: string) => ({
    ...(await zt.asUser(deviceid)),
    'x-api-key': mcpKey,
  });

  before(async function () {
    this.timeout(180_000);
    [stack, idp] = await Promise.all([useStack(), startTestIdp()]);
    zendesk = await startFakeZendesk();
    zt = await zeroTrustOrg(stack, idp, {
      groupRoles: [{ group: 'g-support', roles: ['support'] }],
    });
    // Stored with the org's public key only: nothing the service can open on its own.
    mcpKey = await addZendeskTool(stack, zt.org.orgId, zendesk, 'support');
  });
  after(async () => {
    await zendesk?.close();
    await zt?.close();
    await idp?.stop();
  });

  it("calls the tool with the connector's credential opened in a session of its own", async () => {
    const client = await connect(await asUser());
    try {
      const before = zt.customerDecrypts();
      const calls = zendesk.requests.length;
      const r = await client.callTool({ name: 'zendesk__get_ticket', arguments: { id: 1 } });
      assert.notEqual(r.isError, true, JSON.stringify(r));
      assert.equal(zendesk.requests.length, calls + 1);
      assert.equal(zt.customerDecrypts() - before, 1, 'one key fetch for the one call');
    } finally {
      await client.close();
    }
  });

  it('refuses the call from a noncompliant device, and nothing reaches Zendesk', async () => {
    await zt.setDevice('dev-zoe-rooted', false, 'disk_not_encrypted');
    const calls = zendesk.requests.length;
    const before = zt.customerDecrypts();
    const client = await connect(await asUser('dev-zoe-rooted')).catch((err: unknown) => err);
    const refusal =
      client instanceof Client
        ? await client
            .callTool({ name: 'zendesk__get_ticket', arguments: { id: 1 } })
            .then(
              (r) => r,
              (err: unknown) => err,
            )
            .finally(() => client.close())
        : client;
    // The seeds' JSON-RPC policy denial, naming the device check.
    assert.ok(refusal instanceof McpError, String(refusal));
    assert.equal(refusal.code, -32602);
    assert.equal((refusal.data as { code?: string } | undefined)?.code, 'device_noncompliant');
    assert.equal(zendesk.requests.length, calls);
    assert.equal(zt.customerDecrypts(), before);
  });
});
