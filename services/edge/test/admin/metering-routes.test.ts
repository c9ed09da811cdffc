import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import {
  SummarizeToolCallsResponseSchema,
  SummarizeUsageResponseSchema,
} from '@fortress/proto/audit/v1/audit_pb';
import { sumUsage, toolCallsJson } from '../../src/admin/metering-routes.js';

const part = (requests: bigint, denied: bigint, models: Array<[string, bigint, bigint, bigint]>) =>
  create(SummarizeUsageResponseSchema, {
    requests,
    denied,
    spendMicrousd: models.reduce((s, [, , spend]) => s + spend, 0n),
    usage: { inputTokens: models.reduce((s, [, , , t]) => s + t, 0n) },
    models: models.map(([model, r, spend, t]) => ({
      model,
      requests: r,
      spendMicrousd: spend,
      usage: { inputTokens: t, outputTokens: 1n },
    })),
  });

describe('sumUsage', () => {
  it('adds up requests, denies, spend and tokens, and merges models by id', () => {
    const total = sumUsage([
      part(3n, 1n, [
        ['claude-haiku', 2n, 10n, 100n],
        ['claude-opus', 1n, 50n, 10n],
      ]),
      part(2n, 0n, [['claude-haiku', 2n, 60n, 200n]]),
    ]);
    assert.equal(total.requests, 5n);
    assert.equal(total.denied, 1n);
    assert.equal(total.spendMicrousd, 120n);
    assert.equal(total.usage?.inputTokens, 310n);
    assert.deepEqual(
      total.models.map((m) => [m.model, m.requests, m.spendMicrousd, m.usage?.inputTokens]),
      [
        ['claude-haiku', 4n, 70n, 300n],
        ['claude-opus', 1n, 50n, 10n],
      ],
    );
    assert.equal(total.models[0]?.usage?.outputTokens, 2n);
  });

  it('orders models of equal spend by id', () => {
    const total = sumUsage([
      part(2n, 0n, [
        ['b', 1n, 5n, 1n],
        ['a', 1n, 5n, 1n],
      ]),
    ]);
    assert.deepEqual(
      total.models.map((m) => m.model),
      ['a', 'b'],
    );
  });

  it('is all zeros with no PAT keys', () => {
    const total = sumUsage([]);
    assert.equal(total.requests, 0n);
    assert.equal(total.spendMicrousd, 0n);
    assert.equal(total.usage?.inputTokens, 0n);
    assert.deepEqual(total.models, []);
  });
});

describe('toolCallsJson', () => {
  const zeros = {
    calls: '0',
    allowed: '0',
    denied: '0',
    succeeded: '0',
    tool_errors: '0',
    rejected: '0',
    failed: '0',
  };

  it('puts the counts beside their connector and tool, snake_case, uint64s as strings', () => {
    const counts = { calls: 3n, allowed: 2n, denied: 1n, succeeded: 1n, failed: 1n };
    const json = toolCallsJson(
      create(SummarizeToolCallsResponseSchema, {
        total: counts,
        connectors: [{ connectorId: 'zendesk', counts }],
        tools: [{ tool: 'zendesk__get_ticket', connectorId: 'zendesk', counts }],
      }),
    );
    const shown = { ...zeros, calls: '3', allowed: '2', denied: '1', succeeded: '1', failed: '1' };
    assert.deepEqual(json, {
      ...shown,
      connectors: [{ connector_id: 'zendesk', ...shown }],
      tools: [{ tool: 'zendesk__get_ticket', connector_id: 'zendesk', ...shown }],
    });
  });

  it('shows zeros, not nothing, for an org without tool calls', () => {
    assert.deepEqual(toolCallsJson(create(SummarizeToolCallsResponseSchema)), {
      ...zeros,
      connectors: [],
      tools: [],
    });
  });
});
