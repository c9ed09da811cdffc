import assert from 'node:assert/strict';
import pg from 'pg';
import Anthropic from '@anthropic-ai/sdk';
import {
  ADMIN_PASSWORD,
  DENIED_MODEL,
  eventually,
  postMessages,
  useStack,
  type TestStack,
} from './support/stack.js';

describe('no secret leaves where it belongs', () => {
  let stack: TestStack;
  const bodies: string[] = [];
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    // Traffic of every kind, so that every code path had the chance to leak.
    const org = await stack.seed();
    const client = new Anthropic({ apiKey: org.orgKey, baseURL: stack.edgeUrl, maxRetries: 0 });
    await client.messages.create({
      model: 'claude-haiku-4-5-20251001',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'hi' }],
    });
    for (const init of [
      { headers: { 'x-api-key': org.orgKey }, model: DENIED_MODEL },
      { headers: { 'x-api-key': `${org.orgKey}x` } },
      {
        headers: { authorization: `Bearer ${org.orgKey}`, 'x-api-key': org.orgKey },
        body: '{not json',
      },
      { headers: { 'x-api-key': org.orgKey }, body: JSON.stringify({ messages: [] }) },
    ]) {
      bodies.push(JSON.stringify((await postMessages(stack.edgeUrl, init)).json));
    }
    await stack.operator.identityAdmin.revokeApiKey({ orgId: org.orgId, keyId: org.orgKeyId });
    bodies.push(
      JSON.stringify(
        (await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey } })).json,
      ),
    );
    // Spans are exported in batches; wait for this traffic's last request to arrive.
    const lastId = JSON.parse(bodies.at(-1) ?? '{}') as { request_id?: string };
    await eventually(
      () =>
        stack.collector.spans.some(
          (s) => s.attributes['fortress.request_id'] === lastId.request_id,
        ) || undefined,
      'the spans of the last request',
    );
  });

  /**
   * Every secret issued in this test run: the upstream keys, every org key, the admin
   * password the tests use, and the session tokens they were handed.
   */
  const canaries = () => [
    stack.sandboxAnthropicKey,
    stack.sandboxRotationKey,
    ADMIN_PASSWORD,
    ...stack.issuedOrgKeys,
    ...stack.issuedSecrets,
  ];

  const assertClean = (where: string, texts: readonly string[]) => {
    for (const canary of canaries()) {
      const hit = texts.find((t) => t.includes(canary));
      assert.equal(hit, undefined, `a secret appears in ${where}`);
    }
  };

  it('is in no log line of any service', () => {
    for (const service of Object.values(stack.services))
      assertClean(`${service.name} logs`, service.lines);
    assert.ok(stack.services.edge.lines.length > 0, 'the edge did log');
  });

  it('is in no span attribute or trace export', () => {
    assert.ok(stack.collector.raw.length > 0, 'spans were exported');
    assertClean('exported spans', stack.collector.raw);
  });

  it('is in no error body returned to a client', () => {
    assert.ok(bodies.length >= 5);
    assertClean('error bodies', bodies);
  });

  it('is in no database row, other than as ciphertext and hashes', async () => {
    const admin = new pg.Client({ connectionString: stack.adminDatabaseUrl });
    await admin.connect();
    try {
      const tables = await admin.query<{ schema: string; name: string }>(
        `SELECT schemaname AS schema, tablename AS name FROM pg_tables
         WHERE schemaname IN ('identity', 'posture', 'policy', 'vault', 'audit', 'billing')`,
      );
      assert.ok(tables.rows.length >= 6);
      for (const t of tables.rows) {
        const rows = await admin.query<{ row: string }>(
          `SELECT t::text AS row FROM ${t.schema}.${t.name} t`,
        );
        assertClean(
          `${t.schema}.${t.name}`,
          rows.rows.map((r) => r.row),
        );
      }
      // Binary columns as raw bytes too (the ciphertext must not contain the plaintext).
      const cipher = await admin.query<{ ciphertext: Buffer }>(
        'SELECT ciphertext FROM vault.credentials',
      );
      for (const c of cipher.rows)
        assert.equal(c.ciphertext.includes(Buffer.from(stack.sandboxAnthropicKey)), false);
    } finally {
      await admin.end();
    }
  });
});
