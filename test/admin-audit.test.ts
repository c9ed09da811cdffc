import assert from 'node:assert/strict';
import {
  adminSession,
  ALLOWED_MODEL,
  DENIED_MODEL,
  eventually,
  postMessages,
  useStack,
  type TestStack,
} from './support/stack.js';

describe('admin API: the audit log (/api/v1/audit), its export, the change log and verify', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let org: Awaited<ReturnType<TestStack['seed']>>;
  const tokens: Record<string, string> = {};

  const get = async (path: string, role = 'auditor') => {
    const r = await fetch(`${stack.edgeUrl}/api/v1${path}`, {
      headers: { authorization: `Bearer ${tokens[role] ?? ''}` },
    });
    return { status: r.status, headers: r.headers, text: await r.text() };
  };

  before(async () => {
    stack = await useStack();
    org = await stack.seed();
    for (const role of ['auditor', 'viewer'])
      tokens[role] = await adminSession(stack, org.orgId, role);
    for (const model of [ALLOWED_MODEL, DENIED_MODEL])
      await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey }, model });
    await eventually(async () => {
      const rows = await stack.auditRows(org.orgId);
      return rows.filter((r) => r.kind === 'decision').length >= 2 ? true : undefined;
    }, 'two decisions');
  });

  it('lists the org’s records newest first, filtered and paginated', async () => {
    const denied = await get('/audit?kind=decision&decision=deny');
    assert.equal(denied.status, 200, denied.text);
    const records = (JSON.parse(denied.text) as { records: Array<Record<string, unknown>> })
      .records;
    assert.ok(records.length >= 1);
    for (const r of records) {
      assert.equal(r['org_id'], org.orgId);
      assert.equal(r['decision'], 'DECISION_DENY');
      assert.equal(r['resource'], `model:${DENIED_MODEL}`);
    }
    const first = JSON.parse((await get('/audit?page_size=1')).text) as {
      records: Array<{ sequence: string }>;
      page: { next_page_token: string };
    };
    assert.equal(first.records.length, 1);
    assert.ok(first.page.next_page_token);
    const second = JSON.parse(
      (await get(`/audit?page_size=1&page_token=${first.page.next_page_token}`)).text,
    ) as { records: Array<{ sequence: string }> };
    assert.ok(
      BigInt(second.records[0]?.sequence ?? '0') < BigInt(first.records[0]?.sequence ?? '0'),
      'newest first',
    );
    const bad = await get('/audit?kind=everything');
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json');
  });

  it('exports CSV and JSON lines as a download, for audit roles', async () => {
    const csv = await get('/audit/export?format=csv&kind=decision&decision=deny');
    assert.equal(csv.status, 200, csv.text);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="audit-/);
    const lines = csv.text.trim().split('\n');
    assert.match(lines[0] ?? '', /sequence/);
    assert.equal(lines.length, 2, 'a header and the one denial');
    const jsonl = await get('/audit/export?format=jsonl&kind=decision&decision=deny');
    const objects = jsonl.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { orgId?: string; org_id?: string });
    assert.equal(objects.length, lines.length - 1);
    assert.ok(objects.every((o) => (o.orgId ?? o.org_id) === org.orgId));
    assert.ok(!csv.text.includes(org.orgKey) && !jsonl.text.includes(org.orgKey));
  });

  it('refuses the audit log to a viewer, and audits the refusal', async () => {
    const ids: string[] = [];
    for (const path of ['/audit', '/audit/export', '/changes', '/audit/verify']) {
      const r = await get(path, 'viewer');
      assert.equal(r.status, 403, `${path}: ${r.text}`);
      ids.push(r.headers.get('x-fortress-request-id') ?? '');
    }
    const rows = await eventually(async () => {
      const all = (await stack.auditRows(org.orgId)).filter((r) => ids.includes(r.request_id));
      return all.length === ids.length ? all : undefined;
    }, 'the four refusals in the audit log');
    assert.deepEqual(rows.map((r) => [r.decision, r.action]).sort(), [
      ['deny', 'admin:audit.export'],
      ['deny', 'admin:audit.read'],
      ['deny', 'admin:audit.read'],
      ['deny', 'admin:audit.read'],
    ]);
  });

  it('shows the change log on its own and verifies the chain', async () => {
    const changes = JSON.parse((await get('/changes?entity_type=role')).text) as {
      records: Array<{ kind: string; action: string }>;
    };
    assert.ok(changes.records.length >= 1);
    assert.ok(changes.records.every((r) => r.kind === 'change'));
    const verify = JSON.parse((await get('/audit/verify')).text) as {
      ok: boolean;
      records_checked: string;
    };
    assert.equal(verify.ok, true);
    assert.ok(Number(verify.records_checked) >= 2);
  });
});
