import assert from 'node:assert/strict';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { envelope } from '@fortress/kit/event-bus';
import { inTenant } from '@fortress/kit/pg';
import type { AuditService, SummarizeUsageResponse } from '@fortress/proto/audit/v1/audit_pb';
import { Decision, PrincipalKind, Product, UsageSchema } from '@fortress/proto/common/v1/common_pb';
import type { PgFixture } from '../../../../packages/kit/test/support/pg-fixture.js';
import { USAGE_BY_MODEL_SQL } from '../../src/adapters/pg/usage-repo.js';
import { USAGE_FIELDS, type UsageCounts } from '../../src/domain/pat-usage.js';
import {
  INVALID_WINDOWS,
  NOW,
  SINCE,
  startSummaryWorld,
  ts,
  UNTIL,
} from '../support/summary-world.js';

const ORG_A = 'org_usagea';
const ORG_B = 'org_usageb';
const KEY1 = 'pat_k1';
const KEY2 = 'pat_k2';
const KEY3 = 'pat_k3';
const SONNET = 'claude-sonnet-4-5-20250929';
const HAIKU = 'claude-haiku-4-5';
const CREATE = 'pat:messages.create';
const COUNT_TOKENS = 'pat:messages.count_tokens';
/** Above 2^53: sums must stay exact all the way from the stored JSON strings. */
const HUGE = 9_007_199_254_740_993n;

let requests = 0;

/** What a PAT request's decision and outcome events share, as the edge fills them in. */
function request(orgId: string, patKeyId: string, model: string, at: string, action: string) {
  return {
    envelope: { orgId, occurredAt: ts(at), source: 'edge' },
    event: {
      requestId: `req_${++requests}`,
      product: Product.PAT,
      actor: { kind: PrincipalKind.ORG_KEY, subjectId: 'key_abc', apiKeyId: 'key_abc', patKeyId },
      action,
      resource: `model:${model}`,
    },
  };
}

/** An outcome event, published when a PAT request completes; without usage, a failed one. */
function outcome(
  orgId: string,
  patKeyId: string,
  model: string,
  at: string,
  spendMicrousd: bigint,
  usage?: Partial<UsageCounts>,
  action = CREATE,
) {
  const r = request(orgId, patKeyId, model, at, action);
  const result = usage
    ? { statusCode: 200, usage }
    : { statusCode: 529, errorType: 'overloaded_error' };
  return envelope({
    ...r.envelope,
    payload: { case: 'outcome', value: { ...r.event, ...result, spendMicrousd } },
  });
}

/** A decision event, published before a PAT request goes upstream, or instead of it. */
function decision(
  orgId: string,
  patKeyId: string,
  model: string,
  at: string,
  deny: boolean,
  action = CREATE,
) {
  const r = request(orgId, patKeyId, model, at, action);
  const verdict = deny
    ? { decision: Decision.DENY, reasons: [{ code: 'spend_cap_reached', message: 'cap reached' }] }
    : { decision: Decision.ALLOW };
  return envelope({
    ...r.envelope,
    payload: { case: 'decision', value: { ...r.event, ...verdict } },
  });
}

const EVENTS = [
  // ORG_A, KEY1, in the window: the since bound is inclusive, until exclusive.
  outcome(ORG_A, KEY1, SONNET, SINCE, 1_000n, {
    inputTokens: 100n,
    outputTokens: 50n,
    cacheCreationInputTokens: 10n,
    cacheReadInputTokens: 5n,
    cacheCreation5mInputTokens: 6n,
    cacheCreation1hInputTokens: 4n,
    webSearchRequests: 3n,
  }),
  decision(ORG_A, KEY1, SONNET, SINCE, false),
  outcome(ORG_A, KEY1, SONNET, '2026-10-15T12:00:00Z', HUGE, {
    inputTokens: HUGE,
    outputTokens: 7n,
  }),
  decision(ORG_A, KEY1, SONNET, '2026-10-15T12:00:00Z', false),
  outcome(ORG_A, KEY1, HAIKU, '2026-10-19T23:59:59.999Z', 300n, {
    inputTokens: 30n,
    outputTokens: 3n,
  }),
  // A failed request is still a request; no usage, no spend.
  outcome(ORG_A, KEY1, HAIKU, '2026-10-12T08:00:00Z', 0n),
  decision(ORG_A, KEY1, SONNET, '2026-10-11T00:00:00Z', true),
  decision(ORG_A, KEY1, HAIKU, '2026-10-13T00:00:00Z', true),
  // ORG_A, KEY1, not counted: on the bounds' outer sides, or another action.
  outcome(ORG_A, KEY1, HAIKU, UNTIL, 5_000n, { inputTokens: 1n }),
  outcome(ORG_A, KEY1, SONNET, '2026-10-09T23:59:59.999Z', 7_000n, { inputTokens: 1n }),
  outcome(ORG_A, KEY1, SONNET, '2026-10-12T00:00:00Z', 0n, { inputTokens: 900n }, COUNT_TOKENS),
  decision(ORG_A, KEY1, SONNET, '2026-10-21T00:00:00Z', true),
  decision(ORG_A, KEY1, SONNET, '2026-10-12T00:00:00Z', true, COUNT_TOKENS),
  // ORG_A, KEY2: equal spend on two models.
  outcome(ORG_A, KEY2, SONNET, '2026-10-14T00:00:00Z', 500n, { inputTokens: 1_000n }),
  outcome(ORG_A, KEY2, HAIKU, '2026-10-14T00:00:01Z', 500n, { inputTokens: 10n }),
  decision(ORG_A, KEY2, SONNET, '2026-10-14T00:00:02Z', true),
  // ORG_B reuses KEY1's id (as a hostile or buggy caller might), and has a key of its own.
  outcome(ORG_B, KEY1, SONNET, '2026-10-15T00:00:00Z', 999_999n, { inputTokens: 77n }),
  decision(ORG_B, KEY1, SONNET, '2026-10-15T00:00:01Z', true),
  outcome(ORG_B, KEY3, HAIKU, '2026-10-16T00:00:00Z', 42n, { inputTokens: 2n }),
  // ORG_A, KEY1, around the default window (November up to NOW).
  outcome(ORG_A, KEY1, SONNET, '2026-10-31T23:59:59.999Z', 80n, { inputTokens: 1n }),
  outcome(ORG_A, KEY1, SONNET, '2026-11-01T00:00:00Z', 10n, { inputTokens: 1n }),
  outcome(ORG_A, KEY1, HAIKU, '2026-11-16T11:59:59Z', 20n, { inputTokens: 2n }),
  decision(ORG_A, KEY1, HAIKU, '2026-11-02T00:00:00Z', true),
  outcome(ORG_A, KEY1, SONNET, NOW.toISOString(), 40n, { inputTokens: 4n }),
];

const zero = (): UsageCounts => Object.fromEntries(USAGE_FIELDS.map((f) => [f, 0n])) as UsageCounts;
const tokens = (t: Partial<UsageCounts>) => ({ ...zero(), ...t });

/** A response as plain values: what the dashboard would show. */
function plain(res: SummarizeUsageResponse) {
  const counts = (u: SummarizeUsageResponse['usage']) =>
    Object.fromEntries(USAGE_FIELDS.map((f) => [f, u?.[f] ?? 0n])) as UsageCounts;
  return {
    since: res.since ? timestampDate(res.since).toISOString() : '',
    until: res.until ? timestampDate(res.until).toISOString() : '',
    requests: res.requests,
    usage: counts(res.usage),
    spendMicrousd: res.spendMicrousd,
    denied: res.denied,
    models: res.models.map((m) => ({
      model: m.model,
      requests: m.requests,
      usage: counts(m.usage),
      spendMicrousd: m.spendMicrousd,
    })),
  };
}

describe('AuditService.SummarizeUsage', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let client: Client<typeof AuditService>;

  before(async () => {
    ({ fx, client } = await startSummaryWorld(EVENTS));
  });
  after(() => fx?.stop());

  it('names the usage counts as protobuf JSON does', () => {
    assert.deepEqual(
      USAGE_FIELDS,
      UsageSchema.fields.map((f) => f.jsonName),
    );
  });

  it('sums one key over [since, until) per model, exactly, highest spend first', async () => {
    const res = await client.summarizeUsage({
      orgId: ORG_A,
      patKeyId: KEY1,
      since: ts(SINCE),
      until: ts(UNTIL),
    });
    const sonnet = tokens({
      inputTokens: 100n + HUGE,
      outputTokens: 57n,
      cacheCreationInputTokens: 10n,
      cacheReadInputTokens: 5n,
      cacheCreation5mInputTokens: 6n,
      cacheCreation1hInputTokens: 4n,
      webSearchRequests: 3n,
    });
    const haiku = tokens({ inputTokens: 30n, outputTokens: 3n });
    assert.deepEqual(plain(res), {
      since: '2026-10-10T00:00:00.000Z',
      until: '2026-10-20T00:00:00.000Z',
      requests: 4n,
      usage: tokens({
        ...sonnet,
        inputTokens: sonnet.inputTokens + haiku.inputTokens,
        outputTokens: sonnet.outputTokens + haiku.outputTokens,
      }),
      spendMicrousd: 1_000n + HUGE + 300n,
      denied: 2n,
      models: [
        { model: SONNET, requests: 2n, usage: sonnet, spendMicrousd: 1_000n + HUGE },
        { model: HAIKU, requests: 2n, usage: haiku, spendMicrousd: 300n },
      ],
    });
  });

  it('orders models of equal spend by model id, and counts only that key', async () => {
    const res = await client.summarizeUsage({
      orgId: ORG_A,
      patKeyId: KEY2,
      since: ts(SINCE),
      until: ts(UNTIL),
    });
    assert.deepEqual(
      plain(res).models.map((m) => [m.model, m.requests, m.spendMicrousd, m.usage.inputTokens]),
      [
        [HAIKU, 1n, 500n, 10n],
        [SONNET, 1n, 500n, 1_000n],
      ],
    );
    assert.deepEqual([res.requests, res.spendMicrousd, res.denied], [2n, 1_000n, 1n]);
  });

  it("never counts another org's events, even under the same key id", async () => {
    const window = { since: ts(SINCE), until: ts(UNTIL) };
    const b = await client.summarizeUsage({ orgId: ORG_B, patKeyId: KEY1, ...window });
    assert.deepEqual(
      [b.requests, b.spendMicrousd, b.usage?.inputTokens, b.denied, b.models.map((m) => m.model)],
      [1n, 999_999n, 77n, 1n, [SONNET]],
    );
    const foreign = await client.summarizeUsage({ orgId: ORG_A, patKeyId: KEY3, ...window });
    assert.deepEqual(
      [foreign.requests, foreign.spendMicrousd, foreign.denied, foreign.models.length],
      [0n, 0n, 0n, 0],
    );
  });

  it("leaves the isolation to row-level security: asking for another org's rows finds none", async () => {
    const pool = fx.runtimePool('audit');
    const window = ['2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z'];
    const asA = await inTenant(pool, ORG_A, (db) =>
      db.query(USAGE_BY_MODEL_SQL, [ORG_B, KEY1, ...window]),
    );
    assert.deepEqual(asA.rows, []);
    const asB = await inTenant(pool, ORG_B, (db) =>
      db.query<{ spendMicrousd: string }>(USAGE_BY_MODEL_SQL, [ORG_B, KEY1, ...window]),
    );
    assert.deepEqual(
      asB.rows.map((r) => r.spendMicrousd),
      ['999999'],
    );
  });

  it('defaults to the calendar month so far (UTC), the month the spend cap covers', async () => {
    const res = await client.summarizeUsage({ orgId: ORG_A, patKeyId: KEY1 });
    assert.deepEqual(
      [plain(res).since, plain(res).until, res.requests, res.spendMicrousd, res.denied],
      ['2026-11-01T00:00:00.000Z', NOW.toISOString(), 2n, 30n, 1n],
    );
    assert.deepEqual(
      res.models.map((m) => [m.model, m.spendMicrousd]),
      [
        [HAIKU, 20n],
        [SONNET, 10n],
      ],
    );
  });

  it('ends an open window now, and starts an open one at the month start', async () => {
    const from = await client.summarizeUsage({
      orgId: ORG_A,
      patKeyId: KEY1,
      since: ts('2026-10-31T00:00:00Z'),
    });
    assert.deepEqual([from.requests, from.spendMicrousd], [3n, 110n]);
    const upTo = await client.summarizeUsage({
      orgId: ORG_A,
      patKeyId: KEY1,
      until: ts('2026-11-16T00:00:00Z'),
    });
    assert.deepEqual([upTo.requests, upTo.spendMicrousd], [1n, 10n]);
  });

  const invalid = [
    { name: 'a malformed org id', req: { orgId: "org_x'--", patKeyId: KEY1 }, field: 'org_id' },
    { name: 'no PAT key id', req: { orgId: ORG_A, patKeyId: '' }, field: 'pat_key_id' },
    {
      name: 'an id of another kind as the PAT key',
      req: { orgId: ORG_A, patKeyId: 'key_abc' },
      field: 'pat_key_id',
    },
    ...INVALID_WINDOWS.map((w) => ({ ...w, req: { orgId: ORG_A, patKeyId: KEY1, ...w.window } })),
  ];
  for (const c of invalid)
    it(`refuses ${c.name} as invalid ${c.field}`, async () => {
      const err = await client.summarizeUsage(c.req).catch((e: unknown) => e);
      assert.ok(err instanceof ConnectError, String(err));
      assert.deepEqual(
        [err.code, err.metadata.get('fortress-field')],
        [Code.InvalidArgument, c.field],
      );
    });
});
