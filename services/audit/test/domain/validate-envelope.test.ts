import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { EventEnvelopeSchema } from '@fortress/proto/events/v1/events_pb';
import { envelopeProblem } from '../../src/domain/validate-envelope.js';

describe('envelopeProblem', () => {
  const good = {
    eventId: '6f1c2a9e-3b7d-4c2e-9a51-0d4e8b7f6a21',
    orgId: 'org_abc123',
    payload: { case: 'decision' as const, value: { requestId: 'req_1' } },
  };
  const cases = [
    { name: 'a well-formed decision', init: good, problem: undefined },
    {
      name: 'an event id that is not a uuid',
      init: { ...good, eventId: 'evt-1' },
      problem: 'event_id is not a uuid',
    },
    { name: 'no org', init: { ...good, orgId: '' }, problem: 'org_id is missing or malformed' },
    {
      name: 'a malformed org',
      init: { ...good, orgId: "org_x'; drop" },
      problem: 'org_id is missing or malformed',
    },
    {
      name: 'an occurrence before 1970',
      init: { ...good, occurredAt: { seconds: -1n, nanos: 0 } },
      problem: 'occurred_at is out of range',
    },
    {
      name: 'an occurrence after the year 9999',
      init: { ...good, occurredAt: { seconds: 253_402_300_800n, nanos: 0 } },
      problem: 'occurred_at is out of range',
    },
    {
      name: 'no payload',
      init: { eventId: good.eventId, orgId: good.orgId },
      problem: 'no payload',
    },
  ];
  for (const c of cases) {
    it(`answers ${c.problem ?? 'nothing'} for ${c.name}`, () => {
      assert.equal(envelopeProblem(create(EventEnvelopeSchema, c.init)), c.problem);
    });
  }
});
