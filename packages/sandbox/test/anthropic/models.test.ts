import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { ModelInfo } from '@anthropic-ai/sdk/resources/models';
import { MODEL_CATALOG } from '../../src/anthropic/model-catalog.js';
import { rawFetch, startSandbox, type Sandbox } from './helpers.js';

const REQUIRED_IDS = [
  'claude-sonnet-4-5-20250929',
  'claude-opus-4-1-20250805',
  'claude-haiku-4-5-20251001',
  'claude-sonnet-4-20250514',
  'claude-opus-4-20250514',
];

describe('fake anthropic: models', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox();
  });
  after(() => sandbox.fake.close());
  beforeEach(() => sandbox.fake.clearRequests());

  it('lists active and deprecated models newest first in the ModelInfo shape', async () => {
    const page = await sandbox.client.models.list();
    const ids = page.data.map((m) => m.id);
    for (const id of REQUIRED_IDS) assert.ok(ids.includes(id), `${id} missing`);
    assert.ok(!ids.includes('claude-3-5-sonnet-20241022'), 'retired models are hidden by default');
    const created = page.data.map((m) => Date.parse(m.created_at));
    assert.deepEqual(
      created,
      [...created].sort((a, b) => b - a),
    );
    assert.equal(page.has_more, false);
    assert.equal(page.first_id, ids[0]);
    assert.equal(page.last_id, ids.at(-1));
    const sonnet = page.data.find((m) => m.id === 'claude-sonnet-4-5-20250929');
    assert.deepEqual(sonnet, {
      type: 'model',
      id: 'claude-sonnet-4-5-20250929',
      display_name: 'Claude Sonnet 4.5',
      created_at: '2025-09-29T00:00:00Z',
      capabilities: null,
      deprecated_at: null,
      lifecycle: 'active',
      line: 'sonnet',
      max_input_tokens: 200_000,
      max_tokens: 64_000,
      retires_at: null,
    } satisfies ModelInfo);
  });

  it('pages forward with after_id through the SDK auto-pager', async () => {
    const seen: string[] = [];
    for await (const model of sandbox.client.models.list({ limit: 3 })) seen.push(model.id);
    const all = (await sandbox.client.models.list({ limit: 100 })).data.map((m) => m.id);
    assert.deepEqual(seen, all);
    const listCalls = sandbox.fake.requests.filter((r) => r.path === '/v1/models');
    assert.equal(listCalls[0]?.query, 'limit=3');
    assert.equal(listCalls[1]?.query, `limit=3&after_id=${all[2]}`);
    assert.equal(listCalls.length, Math.ceil(all.length / 3) + 1);
  });

  it('pages backward with before_id', async () => {
    const all = (await sandbox.client.models.list({ limit: 100 })).data.map((m) => m.id);
    const page = await sandbox.client.models.list({ limit: 2, before_id: all[4] ?? '' });
    assert.deepEqual(
      page.data.map((m) => m.id),
      all.slice(2, 4),
    );
    assert.equal(page.has_more, true);
    const previous = await page.getNextPage();
    assert.deepEqual(
      previous.data.map((m) => m.id),
      all.slice(0, 2),
    );
    assert.equal(previous.has_more, false);
  });

  it('filters by lifecycle', async () => {
    const retired = await sandbox.client.models.list({ lifecycle: ['retired'] });
    assert.deepEqual(
      retired.data.map((m) => m.id),
      MODEL_CATALOG.filter((m) => m.info.lifecycle === 'retired').map((m) => m.info.id),
    );
    assert.match(sandbox.fake.requests[0]?.query ?? '', /lifecycle%5B%5D=retired/);
  });

  it('retrieves a model by id or alias, and 404s an unknown one', async () => {
    const byId = await sandbox.client.models.retrieve('claude-opus-4-1-20250805');
    assert.equal(byId.display_name, 'Claude Opus 4.1');
    assert.equal(byId.type, 'model');
    const byAlias = await sandbox.client.models.retrieve('claude-opus-4-1');
    assert.equal(byAlias.id, 'claude-opus-4-1-20250805');
    await assert.rejects(
      sandbox.client.models.retrieve('claude-imaginary'),
      Anthropic.NotFoundError,
    );
  });

  const badQueries = [
    { name: 'limit 0', query: 'limit=0', message: /greater than or equal to 1/ },
    { name: 'limit 1001', query: 'limit=1001', message: /less than or equal to 1000/ },
    { name: 'a non-numeric limit', query: 'limit=ten', message: /valid integer/ },
    { name: 'an unknown cursor', query: 'after_id=claude-nope', message: /claude-nope/ },
    { name: 'an unknown lifecycle', query: 'lifecycle[]=zombie', message: /zombie/ },
  ];
  for (const c of badQueries) {
    it(`rejects ${c.name} with 400 invalid_request_error`, async () => {
      const res = await rawFetch(sandbox.fake, `/v1/models?${c.query}`);
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.error.message, c.message);
    });
  }
});
