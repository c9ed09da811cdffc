import assert from 'node:assert/strict';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { PatKeyService } from '@fortress/proto/admin/v1/admin_pb';
import type { ServiceProcess } from '@fortress/harness/stack/service-process';
import {
  adminSession,
  eventually,
  postMessages,
  useStack,
  type AuditRowView,
  type TestStack,
} from './support/stack.js';

interface Reply {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

interface Person {
  subject_id: string;
  email: string;
}

interface ApprovalJson {
  id: string;
  kind: string;
  status: string;
  method: string;
  path: string;
  requested_by: Person;
  decided_by?: Person;
  reason?: string;
  expires_at: string;
  result?: { status: number; body?: Record<string, unknown> };
  problem?: { status: number; code: string };
}

/** The admin REST API of an edge, as one admin. */
const as =
  (edgeUrl: () => string, token: string) =>
  async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const res = await fetch(`${edgeUrl()}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      text,
      json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
type Api = ReturnType<typeof as>;

const approvalOf = (r: Reply) => r.json['approval'] as ApprovalJson;

/** Asserts a problem+json reply with the status and code. */
function assertProblem(r: Reply, status: number, code: string) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json['code'], code, r.text);
}

describe('admin API: approvals of critical changes (/api/v1/approvals, S8)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let orgId: string;
  /** The org's owners, two admins (alice requests, bob and carol approve) and a viewer. */
  let owner: Api;
  let owner2: Api;
  let alice: Api;
  let bob: Api;
  let carol: Api;
  let viewer: Api;

  before(async () => {
    stack = await useStack();
    orgId = (await stack.seed()).orgId;
    const session = async (role: string, email: string) =>
      as(() => stack.edgeUrl, await adminSession(stack, orgId, role, email));
    owner = await session('owner', 'owner@example.com');
    owner2 = await session('owner', 'owner2@example.com');
    alice = await session('admin', 'alice@example.com');
    bob = await session('admin', 'bob@example.com');
    carol = await session('admin', 'carol@example.com');
    viewer = await session('viewer', 'viewer@example.com');
    const set = await owner('PUT', '/approval-policy', { critical: ['pat_key.revoke'] });
    assert.equal(set.status, 200, set.text);
  });

  /** A PAT key made by alice (not critical: it runs at once) and an org key using it. */
  const patKeyWithOrgKey = async (label: string) => {
    const created = await alice('POST', '/pat-keys', {
      label,
      anthropic_key: stack.sandboxAnthropicKey,
    });
    assert.equal(created.status, 201, created.text);
    const id = (created.json['pat_key'] as { id: string }).id;
    const key = await alice('POST', '/org-keys', {
      label: `${label} sdk`,
      roles: ['developer'],
      pat_key_id: id,
    });
    assert.equal(key.status, 201, key.text);
    const secret = key.json['secret'] as string;
    stack.issuedOrgKeys.push(secret);
    return {
      id,
      serves: async () =>
        (await postMessages(stack.edgeUrl, { headers: { 'x-api-key': secret } })).status,
    };
  };

  /** Alice asks to revoke a PAT key: parked. */
  const requestRevoke = async (id: string) => {
    const r = await alice('DELETE', `/pat-keys/${id}`);
    assert.equal(r.status, 202, r.text);
    return approvalOf(r);
  };

  it('parks a critical revoke until a second admin approves it, then runs it once as the requester', async () => {
    const pk = await patKeyWithOrgKey('Guarded');
    assert.equal(await pk.serves(), 200);

    // A change that could not succeed is refused at once, not parked.
    assertProblem(await alice('DELETE', '/pat-keys/pat_missing'), 404, 'pat_key_not_found');
    const parked = await requestRevoke(pk.id);
    assert.match(parked.id, /^apr_/);
    assert.ok(!('requester' in parked), 'the stored principal is shown');
    assert.equal(parked.status, 'pending');
    assert.equal(parked.kind, 'pat_key.revoke');
    assert.equal(parked.method, 'DELETE');
    assert.equal(parked.path, `/api/v1/pat-keys/${pk.id}`);
    assert.equal(parked.requested_by.email, 'alice@example.com');
    assert.ok(Date.parse(parked.expires_at) > Date.now(), 'expires in the future');
    assert.equal(await pk.serves(), 200, 'a parked revoke changed nothing');
    const still = await viewer('GET', `/pat-keys/${pk.id}`);
    assert.equal((still.json['pat_key'] as { status: string }).status, 'PAT_KEY_STATUS_ACTIVE');

    assertProblem(await alice('POST', `/approvals/${parked.id}/approve`), 403, 'self_approval');
    const pending = await viewer('GET', '/approvals?status=pending');
    assert.equal(pending.status, 200, pending.text);
    assert.ok(
      (pending.json['approvals'] as ApprovalJson[]).some((a) => a.id === parked.id),
      'listed as pending',
    );

    const approved = await bob('POST', `/approvals/${parked.id}/approve`);
    assert.equal(approved.status, 200, approved.text);
    const a = approvalOf(approved);
    assert.equal(a.status, 'approved');
    assert.equal(a.requested_by.email, 'alice@example.com');
    assert.equal(a.decided_by?.email, 'bob@example.com');
    assert.equal(a.result?.status, 200);
    assert.equal(
      (a.result?.body?.['pat_key'] as { status: string }).status,
      'PAT_KEY_STATUS_REVOKED',
    );
    assert.equal(await pk.serves(), 403, 'the approved revoke took effect');

    assertProblem(
      await bob('POST', `/approvals/${parked.id}/approve`),
      409,
      'approval_already_decided',
    );
    assertProblem(
      await carol('POST', `/approvals/${parked.id}/reject`, { reason: 'too late' }),
      409,
      'approval_already_decided',
    );
    const shown = approvalOf(await viewer('GET', `/approvals/${parked.id}`));
    assert.equal(shown.status, 'approved');
    assert.equal(shown.decided_by?.email, 'bob@example.com');
  });

  it('runs a change approved by two admins at once exactly once', async () => {
    const pk = await patKeyWithOrgKey('Raced');
    const parked = await requestRevoke(pk.id);
    const tries = await Promise.all(
      [bob, carol, bob, carol].map((who) => who('POST', `/approvals/${parked.id}/approve`)),
    );
    const won = tries.filter((r) => r.status === 200);
    assert.equal(won.length, 1, tries.map((r) => r.text).join('\n'));
    for (const r of tries.filter((t) => t.status !== 200))
      assertProblem(r, 409, 'approval_already_decided');
    assert.equal(await pk.serves(), 403);
    const rows = await eventually(async () => {
      const all = (await stack.auditRows(orgId)).filter(
        (r) => r.resource === `approval:${parked.id}`,
      );
      return all.some((r) => r.action === 'approval.approved') ? all : undefined;
    }, 'the approval in the audit log');
    assert.equal(rows.filter((r) => r.action === 'approval.approved').length, 1);
  });

  it('rejects with a reason: the change never runs and cannot be approved afterwards', async () => {
    const pk = await patKeyWithOrgKey('Kept');
    const parked = await requestRevoke(pk.id);
    assertProblem(await bob('POST', `/approvals/${parked.id}/reject`, {}), 400, 'invalid_request');
    const rejected = await bob('POST', `/approvals/${parked.id}/reject`, {
      reason: 'this key is still in use by billing',
    });
    assert.equal(rejected.status, 200, rejected.text);
    const r = approvalOf(rejected);
    assert.equal(r.status, 'rejected');
    assert.equal(r.reason, 'this key is still in use by billing');
    assert.equal(r.decided_by?.email, 'bob@example.com');
    assertProblem(
      await carol('POST', `/approvals/${parked.id}/approve`),
      409,
      'approval_already_decided',
    );
    assert.equal(await pk.serves(), 200, 'a rejected revoke changed nothing');
    const listed = await viewer('GET', '/approvals?status=rejected');
    assert.ok((listed.json['approvals'] as ApprovalJson[]).some((a) => a.id === parked.id));
    assertProblem(await viewer('GET', '/approvals?status=maybe'), 400, 'invalid_request');
  });

  it('lets a pending change expire (an edge with a short approval TTL): it cannot be approved', async () => {
    let replica: ServiceProcess | undefined;
    try {
      replica = await stack.startReplica('edge', { FORTRESS_APPROVAL_TTL_MS: '1000' });
      const port = replica.ports.httpPort;
      const pk = await patKeyWithOrgKey('Expiring');
      const token = await adminSession(stack, orgId, 'admin', 'alice@example.com');
      const aliceThere = as(() => `http://127.0.0.1:${port}`, token);
      const r = await aliceThere('DELETE', `/pat-keys/${pk.id}`);
      assert.equal(r.status, 202, r.text);
      const parked = approvalOf(r);
      // Any replica sees it: the store is shared.
      const expired = await eventually(async () => {
        const got = approvalOf(await viewer('GET', `/approvals/${parked.id}`));
        return got.status === 'expired' ? got : undefined;
      }, 'the approval to expire');
      assert.equal(expired.id, parked.id);
      assertProblem(await bob('POST', `/approvals/${parked.id}/approve`), 409, 'approval_expired');
      assert.equal(await pk.serves(), 200, 'an expired revoke changed nothing');
    } finally {
      await replica?.stop();
    }
  });

  it('runs a change that is not critical at once', async () => {
    const pk = await patKeyWithOrgKey('Relabelled');
    const put = await alice('PUT', `/pat-keys/${pk.id}`, { label: 'Relabelled again' });
    assert.equal(put.status, 200, put.text);
    assert.equal((put.json['pat_key'] as { label: string }).label, 'Relabelled again');
    const role = await alice('POST', '/roles', { name: 'temporary', grants: [] });
    assert.equal(role.status, 201, role.text);
    const gone = await alice('DELETE', '/roles/temporary');
    assert.equal(gone.status, 204, gone.text);
  });

  it('records an approved change that fails when run as failed, with its problem', async () => {
    // Custom patterns are for Bank and Zero Trust orgs: this SOHO org's change is refused when run.
    const set = await owner('PUT', '/approval-policy', {
      critical: ['pat_key.revoke', 'redaction.custom_patterns'],
    });
    assert.equal(set.status, 200, set.text);
    const plain = await alice('PUT', '/redaction/developer/zendesk', {
      kinds: ['REDACTION_KIND_EMAIL'],
    });
    assert.notEqual(plain.status, 202, 'a profile without custom patterns is not critical');
    const r = await alice('PUT', '/redaction/developer/zendesk', {
      kinds: ['REDACTION_KIND_EMAIL'],
      custom: [{ id: 'acct', pattern: 'ACCT-[0-9]{6}', mask: '[account]' }],
    });
    assert.equal(r.status, 202, r.text);
    assert.equal(approvalOf(r).kind, 'redaction.custom_patterns');
    const approved = await bob('POST', `/approvals/${approvalOf(r).id}/approve`);
    assert.equal(approved.status, 200, approved.text);
    const a = approvalOf(approved);
    assert.equal(a.status, 'failed');
    assert.equal(a.problem?.status, 403);
    assert.equal(a.problem?.code, 'tier_required');
  });

  it('lets only an owner set the approval policy; relaxing it waits for a second owner', async () => {
    const read = await viewer('GET', '/approval-policy');
    assert.equal(read.status, 200, read.text);
    const kinds = (read.json['kinds'] as Array<{ kind: string }>).map((k) => k.kind);
    assert.ok(kinds.includes('pat_key.revoke') && kinds.includes('idp.change'));
    assertProblem(await alice('PUT', '/approval-policy', { critical: [] }), 403, 'not_permitted');
    assertProblem(
      await owner('PUT', '/approval-policy', { critical: ['everything'] }),
      400,
      'unknown_change_kind',
    );
    // Tightening runs at once.
    const tighter = await owner('PUT', '/approval-policy', {
      critical: ['pat_key.revoke', 'redaction.custom_patterns', 'idp.change', 'role.delete'],
    });
    assert.equal(tighter.status, 200, tighter.text);
    // Relaxing waits, and only someone who may set the policy may approve it.
    const relax = await owner('PUT', '/approval-policy', { critical: ['pat_key.revoke'] });
    assert.equal(relax.status, 202, relax.text);
    const parked = approvalOf(relax);
    assert.equal(parked.kind, 'approval_policy.relax');
    assertProblem(await bob('POST', `/approvals/${parked.id}/approve`), 403, 'not_permitted');
    assertProblem(await owner('POST', `/approvals/${parked.id}/approve`), 403, 'self_approval');
    const ok = await owner2('POST', `/approvals/${parked.id}/approve`);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(approvalOf(ok).status, 'approved');
    const now = await viewer('GET', '/approval-policy');
    assert.deepEqual((now.json['approval_policy'] as { critical: string[] }).critical, [
      'pat_key.revoke',
    ]);
  });

  it('parks the gRPC twin of a critical change too, and tells the caller which approval', async () => {
    const pk = await patKeyWithOrgKey('Over RPC');
    const token = await adminSession(stack, orgId, 'admin', 'alice@example.com');
    const keys = createClient(
      PatKeyService,
      createConnectTransport({ baseUrl: stack.edgeUrl, httpVersion: '1.1' }),
    );
    const err = await keys
      .revokePatKey({ id: pk.id }, { headers: { authorization: `Bearer ${token}` } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, Code.FailedPrecondition);
    assert.equal(err.metadata.get('fortress-reason'), 'approval_pending');
    const id = err.metadata.get('fortress-approval-id') ?? '';
    assert.match(id, /^apr_/);
    assert.equal(await pk.serves(), 200);
    const approved = await carol('POST', `/approvals/${id}/approve`);
    assert.equal(approvalOf(approved).status, 'approved', approved.text);
    assert.equal(await pk.serves(), 403);
  });

  it('refuses to park a critical change whose body carries a secret', async () => {
    const set = await owner('PUT', '/approval-policy', {
      critical: ['pat_key.revoke', 'idp.change'],
    });
    // Tightening or an identical policy runs at once.
    assert.equal(set.status, 200, set.text);
    const canary = 'sk-ant-canary-in-an-idp-body';
    const r = await alice('PUT', '/idp', {
      issuer: 'https://login.example.com/tenant/v2.0',
      audiences: ['api://fortress'],
      jwks_uri: 'https://login.example.com/keys',
      client_secret: canary,
    });
    assertProblem(r, 422, 'approval_secret_refused');
    assert.ok(!r.text.includes(canary), 'the secret was echoed');
    const listed = await viewer('GET', '/approvals');
    assert.ok(!listed.text.includes(canary), 'the secret was stored');
  });

  it('audits each step with both admins, and keeps no secret in any approval', async () => {
    const pk = await patKeyWithOrgKey('Audited');
    const parked = await requestRevoke(pk.id);
    const approved = approvalOf(await bob('POST', `/approvals/${parked.id}/approve`));
    const rows = await eventually(async () => {
      const all = (await stack.auditRows(orgId)).filter(
        (r) => r.resource === `approval:${parked.id}`,
      );
      return all.length >= 2 ? all : undefined;
    }, 'the approval steps in the audit log');
    type Change = {
      change: { actor: { email: string }; approvedBy?: string; after: { status: string } };
    };
    const step = (action: string) => {
      const row = rows.find((r: AuditRowView) => r.action === action);
      assert.ok(row, `no ${action} row`);
      return (row.event as Change).change;
    };
    const requested = step('approval.requested');
    assert.equal(requested.actor.email, 'alice@example.com');
    assert.equal(requested.after.status, 'pending');
    const done = step('approval.approved');
    assert.equal(done.actor.email, 'alice@example.com', 'the change is the requester’s');
    assert.equal(done.approvedBy, approved.decided_by?.subject_id, 'approved_by names bob');
    assert.notEqual(done.approvedBy, approved.requested_by.subject_id);
    // The approver's decision to approve is itself audited, as bob.
    const decisions = (await stack.auditRows(orgId)).filter(
      (r) => r.kind === 'decision' && r.action === 'admin:approvals.write',
    );
    assert.ok(decisions.some((r) => JSON.stringify(r.event).includes('bob@example.com')));

    // Every approval record as stored, and every listing, is free of every secret handed out.
    const canaries = [
      stack.sandboxAnthropicKey,
      ...stack.issuedOrgKeys,
      ...stack.issuedSecrets,
    ].filter((s) => s.length >= 8);
    const listed = await viewer('GET', '/approvals');
    const nc = await connect({ servers: stack.nats.url });
    try {
      const kv = await new Kvm(nc).open('fortress_admin_approvals');
      const stored: string[] = [];
      for await (const key of await kv.keys(`${orgId}.*`)) {
        const e = await kv.get(key);
        if (e) stored.push(e.string());
      }
      assert.ok(stored.length >= 5, `only ${stored.length} approvals stored`);
      for (const text of [listed.text, ...stored])
        for (const c of canaries) assert.ok(!text.includes(c), 'a secret is in an approval');
    } finally {
      await nc.close();
    }
  });
});
