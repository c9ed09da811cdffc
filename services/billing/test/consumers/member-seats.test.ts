import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Tier } from '@fortress/proto/common/v1/common_pb';
import { EventEnvelopeSchema, type EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { createLogger } from '@fortress/kit/log';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../packages/kit/test/support/pg-fixture.js';
import { renderInvoicePdf } from '../../src/adapters/pdf/invoice-pdf.js';
import { createBillingStore, type BillingStore } from '../../src/adapters/pg/billing-store.js';
import { createMemberSeatsHandler } from '../../src/consumers/member-seats.js';
import { seatChangesFor, seatsOf } from '../../src/domain/member-seats.js';
import { createBillingRpc } from '../../src/rpc/billing-service.js';
import { billingClient } from '../support/billing-client.js';
import { ledger } from '../support/ledger.js';

const ORG = 'org_seats1';
const OTHER = 'org_seats2';

/** A member's facts as identity's change events carry them. */
const facts = (products: string[], active = true): JsonObject => ({
  id: 'mbr_x',
  external_id: 'x',
  email: 'x@acme.test',
  display_name: 'X',
  products,
  active,
});

/** An identity "member" change event. */
function memberEvent(
  orgId: string,
  memberId: string,
  at: string,
  after: JsonObject | undefined,
  init: Partial<{ source: string; entityType: string; eventId: string }> = {},
): EventEnvelope {
  return create(EventEnvelopeSchema, {
    eventId: init.eventId ?? randomUUID(),
    orgId,
    occurredAt: timestampFromDate(new Date(at)),
    source: init.source ?? 'identity',
    payload: {
      case: 'change',
      value: {
        entityType: init.entityType ?? 'member',
        entityId: memberId,
        operation: after ? 'update' : 'delete',
        ...(after ? { after } : {}),
      },
    },
  });
}

describe('member seats: the domain', () => {
  it('reads the seats of an active member only, and only MCP and PAT', () => {
    assert.deepEqual([...seatsOf(facts(['pat', 'mcp']))].sort(), ['mcp', 'pat']);
    assert.deepEqual([...seatsOf(facts(['mcp'], false))], []);
    assert.deepEqual([...seatsOf(undefined)], []);
    assert.deepEqual([...seatsOf(facts(['admin', 'pat']))], ['pat']);
    assert.deepEqual([...seatsOf({ ...facts(['mcp']), active: 'yes' })], []);
    assert.deepEqual([...seatsOf({ ...facts([]), products: 'mcp' })], []);
  });

  it('changes the ledger from what it says to what the event says, and nothing when they agree', () => {
    const at = new Date('2026-03-01T00:00:00Z');
    const history = ledger()
      .grant('2026-02-01T00:00:00Z', ['mcp'], ['u1'])
      .grant('2026-02-02T00:00:00Z', ['pat'], ['u1'])
      .revoke('2026-02-03T00:00:00Z', ['pat'], ['u1']).events;
    assert.deepEqual(seatChangesFor('u1', new Set(['mcp', 'pat']), history, at), [
      { userId: 'u1', product: 'pat', change: 'granted', at },
    ]);
    assert.deepEqual(seatChangesFor('u1', new Set(), history, at), [
      { userId: 'u1', product: 'mcp', change: 'revoked', at },
    ]);
    assert.deepEqual(seatChangesFor('u1', new Set(['mcp']), history, at), []);
  });
});

describe('member seats: billing follows member change events (PostgreSQL)', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let store: BillingStore;
  let handle: (env: EventEnvelope) => Promise<void>;
  const seatRows = async (orgId: string) =>
    (
      await fx.admin.query<{ user_id: string; product: string; change: string; at: string }>(
        `SELECT user_id, product, change, to_char(effective_at AT TIME ZONE 'UTC', 'MM-DD"T"HH24:MI') AS at
           FROM billing.seat_events WHERE org_id = $1 ORDER BY seq`,
        [orgId],
      )
    ).rows.map((r) => `${r.user_id} ${r.product} ${r.change} ${r.at}`);

  before(async () => {
    fx = await startPgFixture(['billing']);
    store = createBillingStore(fx.runtimePool('billing'));
    handle = createMemberSeatsHandler({
      store,
      logger: createLogger({ service: 'billing', level: 'silent' }),
    });
  });
  after(() => fx?.stop());

  it('grants and revokes seats as members change, before the org even has an account', async () => {
    await handle(memberEvent(ORG, 'mbr_ada', '2026-01-10T09:00:00Z', facts(['mcp', 'pat'])));
    await handle(memberEvent(ORG, 'mbr_ada', '2026-01-20T09:00:00Z', facts(['mcp'])));
    await handle(memberEvent(ORG, 'mbr_bo', '2026-01-21T09:00:00Z', facts(['pat'])));
    await handle(memberEvent(ORG, 'mbr_bo', '2026-01-22T09:00:00Z', facts(['pat'], false)));
    await handle(memberEvent(ORG, 'mbr_cy', '2026-01-23T09:00:00Z', facts(['pat'])));
    await handle(memberEvent(ORG, 'mbr_cy', '2026-01-24T09:00:00Z', undefined));
    assert.deepEqual(await seatRows(ORG), [
      'mbr_ada mcp granted 01-10T09:00',
      'mbr_ada pat granted 01-10T09:00',
      'mbr_ada pat revoked 01-20T09:00',
      'mbr_bo pat granted 01-21T09:00',
      'mbr_bo pat revoked 01-22T09:00',
      'mbr_cy pat granted 01-23T09:00',
      'mbr_cy pat revoked 01-24T09:00',
    ]);
    assert.deepEqual(await seatRows(OTHER), []);
  });

  it('takes a redelivered event once, and an older event delivered late not at all', async () => {
    const grant = memberEvent(ORG, 'mbr_di', '2026-02-01T09:00:00Z', facts(['mcp']));
    const revoke = memberEvent(ORG, 'mbr_di', '2026-02-02T09:00:00Z', facts(['mcp'], false));
    await handle(revoke);
    await handle(grant); // older than the last one applied: stale
    await handle(revoke);
    await handle(memberEvent(ORG, 'mbr_eve', '2026-02-03T09:00:00Z', facts(['pat'])));
    const eveAgain = memberEvent(ORG, 'mbr_eve', '2026-02-03T09:00:00Z', facts(['pat']));
    await handle(eveAgain);
    const rows = (await seatRows(ORG)).filter((r) => /mbr_(di|eve)/.test(r));
    assert.deepEqual(rows, ['mbr_eve pat granted 02-03T09:00']);
  });

  it('ignores change events that are not identity member changes', async () => {
    const before = await seatRows(ORG);
    await handle(
      memberEvent(ORG, 'mbr_fay', '2026-02-05T00:00:00Z', facts(['pat']), { source: 'edge' }),
    );
    await handle(
      memberEvent(ORG, 'mbr_fay', '2026-02-05T00:00:00Z', facts(['pat']), { entityType: 'role' }),
    );
    assert.deepEqual(await seatRows(ORG), before);
  });

  it('invoices the seats members hold once the operator opens the account', async () => {
    const client = billingClient(
      createBillingRpc({
        store,
        renderPdf: renderInvoicePdf,
        now: () => new Date('2026-02-20T00:00:00Z'),
      }),
    );
    await client.setAccount({ orgId: ORG, tier: Tier.BANK, anchorDate: '2026-02-15' });
    const invoice = (await client.previewInvoice({ orgId: ORG })).invoice;
    // ada holds MCP, eve holds PAT, from before the cycle began: two single seats.
    assert.equal(invoice?.seats?.mcpOnly, 1);
    assert.equal(invoice?.seats?.patOnly, 1);
    assert.equal(invoice?.seats?.bundle, 0);
  });
});
