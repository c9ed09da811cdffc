import assert from 'node:assert/strict';
import { create, fromJson, equals, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  Decision,
  Hop,
  PrincipalKind,
  Product,
  ReasonSchema,
  UsageSchema,
} from '@fortress/proto/common/v1/common_pb';
import {
  ActorSchema,
  EventEnvelopeSchema,
  type EventEnvelope,
} from '@fortress/proto/events/v1/events_pb';
import { toAuditRow, type AuditRow } from '../../src/domain/audit-row.js';

const occurredAt = new Date('2026-11-22T12:34:56.789Z');
const actor = create(ActorSchema, {
  kind: PrincipalKind.ORG_KEY,
  subjectId: 'key_1',
  apiKeyId: 'key_1',
  roles: ['developer'],
});

const decisionEnvelope = (decision: Decision): EventEnvelope =>
  create(EventEnvelopeSchema, {
    eventId: '7b0c2f0e-8f6a-4c36-9d3e-2b7f1c4e5a01',
    orgId: 'org_a',
    occurredAt: timestampFromDate(occurredAt),
    source: 'edge',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    payload: {
      case: 'decision',
      value: {
        requestId: 'req_1',
        product: Product.PAT,
        actor,
        action: 'pat:messages.create',
        resource: 'model:claude-sonnet-4-5',
        decision,
        decidedBy: Hop.POLICY,
        reasons: [
          create(ReasonSchema, {
            code: 'model_denied',
            message: 'model "x" is denied',
            ruleId: 'role:dev:deny:model:x',
          }),
        ],
        policyVersion: '3',
        clientIp: '127.0.0.1',
        identityUs: 100,
        postureUs: 50,
        policyUs: 300,
        decideUs: 512,
      },
    },
  });

const outcomeEnvelope = (): EventEnvelope =>
  create(EventEnvelopeSchema, {
    eventId: '7b0c2f0e-8f6a-4c36-9d3e-2b7f1c4e5a02',
    orgId: 'org_a',
    occurredAt: timestampFromDate(occurredAt),
    source: 'edge',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    payload: {
      case: 'outcome',
      value: {
        requestId: 'req_1',
        product: Product.PAT,
        actor,
        action: 'pat:messages.create',
        resource: 'model:claude-sonnet-4-5',
        statusCode: 200,
        latencyUs: 123_456,
        upstreamLatencyUs: 120_000,
        usage: create(UsageSchema, { inputTokens: 25n, outputTokens: 15n }),
        upstreamRequestId: 'req_upstream_1',
      },
    },
  });

/** The flat columns of a row, without the stored envelope. */
function columnsOf(row: AuditRow): Partial<AuditRow> {
  const columns: Partial<AuditRow> = { ...row };
  delete columns.event;
  return columns;
}

describe('toAuditRow', () => {
  const decisions = [
    { name: 'an allow', decision: Decision.ALLOW, expected: 'allow' },
    { name: 'a deny', decision: Decision.DENY, expected: 'deny' },
    { name: 'an unspecified decision', decision: Decision.UNSPECIFIED, expected: null },
  ] as const;
  for (const c of decisions) {
    it(`flattens ${c.name} decision event into its columns`, () => {
      assert.deepEqual(columnsOf(toAuditRow(decisionEnvelope(c.decision))), {
        eventId: '7b0c2f0e-8f6a-4c36-9d3e-2b7f1c4e5a01',
        orgId: 'org_a',
        kind: 'decision',
        occurredAt,
        source: 'edge',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        product: 'pat',
        actor: {
          kind: 'PRINCIPAL_KIND_ORG_KEY',
          subjectId: 'key_1',
          apiKeyId: 'key_1',
          roles: ['developer'],
        },
        action: 'pat:messages.create',
        resource: 'model:claude-sonnet-4-5',
        decision: c.expected,
        reasons: [
          { code: 'model_denied', message: 'model "x" is denied', ruleId: 'role:dev:deny:model:x' },
        ],
        latencyUs: 512,
        statusCode: null,
        requestId: 'req_1',
      });
    });
  }

  it('flattens an outcome event into its columns', () => {
    assert.deepEqual(columnsOf(toAuditRow(outcomeEnvelope())), {
      eventId: '7b0c2f0e-8f6a-4c36-9d3e-2b7f1c4e5a02',
      orgId: 'org_a',
      kind: 'outcome',
      occurredAt,
      source: 'edge',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      product: 'pat',
      actor: {
        kind: 'PRINCIPAL_KIND_ORG_KEY',
        subjectId: 'key_1',
        apiKeyId: 'key_1',
        roles: ['developer'],
      },
      action: 'pat:messages.create',
      resource: 'model:claude-sonnet-4-5',
      decision: null,
      reasons: [],
      latencyUs: 123_456,
      statusCode: 200,
      requestId: 'req_1',
    });
  });

  it('stores no product for an event without one, and no actor for an event without one', () => {
    const env = decisionEnvelope(Decision.DENY);
    if (env.payload.case !== 'decision') throw new Error('unreachable');
    env.payload.value.product = Product.UNSPECIFIED;
    env.payload.value.actor = undefined;
    const row = toAuditRow(env);
    assert.equal(row.product, null);
    assert.deepEqual(row.actor, {});
  });

  const envelopes = [
    { name: 'decision', make: () => decisionEnvelope(Decision.DENY) },
    { name: 'outcome', make: outcomeEnvelope },
  ];
  for (const c of envelopes) {
    it(`stores as "event" exactly the ${c.name} envelope: it parses back strictly and equals it`, () => {
      const envelope = c.make();
      const row = toAuditRow(envelope);
      // fromJson refuses unknown fields, so any field not in the envelope schema would throw here
      const back = fromJson(EventEnvelopeSchema, row.event as JsonObject);
      assert.ok(equals(EventEnvelopeSchema, back, envelope));
      assert.deepEqual(
        Object.keys(row.event as JsonObject).sort(),
        ['eventId', 'occurredAt', 'orgId', c.name, 'source', 'traceId'].sort(),
      );
    });
  }

  it('flattens a change event to its kind with empty request columns', () => {
    const env = create(EventEnvelopeSchema, {
      eventId: '7b0c2f0e-8f6a-4c36-9d3e-2b7f1c4e5a03',
      orgId: 'org_a',
      occurredAt: timestampFromDate(occurredAt),
      source: 'policy',
      payload: {
        case: 'change',
        value: { actor, entityType: 'role', entityId: 'developer', operation: 'update' },
      },
    });
    const row = toAuditRow(env);
    assert.equal(row.kind, 'change');
    assert.equal(row.decision, null);
    assert.equal(row.requestId, '');
    assert.equal(row.latencyUs, null);
    assert.equal(
      row.action,
      'role.update',
      'the change log filters on "<entity_type>.<operation>"',
    );
    assert.equal(row.resource, 'role:developer', 'and on "<entity_type>:<entity_id>"');
    assert.deepEqual(row.actor, {
      kind: 'PRINCIPAL_KIND_ORG_KEY',
      subjectId: 'key_1',
      apiKeyId: 'key_1',
      roles: ['developer'],
    });
  });

  it('lowercases the event id, as the uuid column prints it (the hashed row is the stored row)', () => {
    const env = decisionEnvelope(Decision.ALLOW);
    env.eventId = env.eventId.toUpperCase();
    assert.equal(toAuditRow(env).eventId, '7b0c2f0e-8f6a-4c36-9d3e-2b7f1c4e5a01');
  });
});
