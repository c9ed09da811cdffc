import assert from 'node:assert/strict';
import { Code, type ConnectError } from '@connectrpc/connect';
import { eventually } from '@fortress/harness/eventually';
import { DeliveryState, type WebhookDelivery } from '@fortress/proto/audit/v1/webhook_pb';
import { startReceiver, verify, type Receiver } from '../support/webhook-receiver.js';
import { startWebhookWorld, type WebhookWorld } from '../support/webhook-world.js';

const ORG = 'org_hooks';
const ACTOR = 'admin_1';

describe('webhook delivery', function () {
  this.timeout(120_000);
  let world: WebhookWorld;
  const receivers: Receiver[] = [];

  before(async () => {
    world = await startWebhookWorld({ attempts: 3, backoffMs: 20, timeoutMs: 500 });
  });
  after(async () => {
    for (const r of receivers) await r.close();
    await world?.stop();
  });

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }

  async function subscribe(url: string, eventTypes: string[] = [], orgId = ORG) {
    const res = await world.client.createWebhook({ orgId, url, eventTypes, actorId: ACTOR });
    assert.ok(res.webhook);
    return { id: res.webhook.webhookId, secret: res.secret };
  }

  /** The delivery of one event to one subscription once it has reached `state`. */
  const settled = (webhookId: string, eventId: string, state: DeliveryState) =>
    eventually(async (): Promise<WebhookDelivery | undefined> => {
      const { deliveries } = await world.client.listWebhookDeliveries({
        orgId: ORG,
        webhookId,
        eventId,
      });
      return deliveries.find((d) => d.state === state);
    }, `delivery of ${eventId} to be ${DeliveryState[state]}`);

  it('signs each delivery as Standard Webhooks does: the reference verifier accepts it', async () => {
    const r = await receiver();
    const sub = await subscribe(r.url);
    assert.match(sub.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(sub.secret.slice(6), 'base64').length, 32);
    const eventId = await world.notify(ORG, 'pat.model_blocked', { model: 'claude-opus-4' });
    const got = await eventually(() => r.received[0], 'the delivery');
    assert.deepEqual(verify(sub.secret, got), {
      type: 'pat.model_blocked',
      timestamp: (JSON.parse(got.body) as { timestamp: string }).timestamp,
      data: { model: 'claude-opus-4' },
    });
    assert.equal(got.headers['webhook-id'], eventId);
    assert.equal(got.headers['content-type'], 'application/json');
    assert.match(String(got.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]+=*$/);
    // A tampered body or another secret does not verify.
    assert.throws(() => verify(sub.secret, { ...got, body: got.body.replace('opus', 'haiku') }));
    const other = await subscribe(r.url, ['connector.error']);
    assert.throws(() => verify(other.secret, got));
    const d = await settled(sub.id, eventId, DeliveryState.DELIVERED);
    assert.equal(d.eventType, 'pat.model_blocked');
    assert.deepEqual(
      d.attempts.map((a) => [a.attempt, a.statusCode, a.error, a.state]),
      [[1, 204, '', DeliveryState.DELIVERED]],
    );
  });

  it('delivers only the event types a subscription asked for (empty: all nine)', async () => {
    const r = await receiver();
    const caps = await subscribe(r.url, ['pat.spend_cap_reached', 'user.overage']);
    const all = await subscribe(r.url);
    const sent = {
      cap: await world.notify(ORG, 'pat.spend_cap_reached'),
      blocked: await world.notify(ORG, 'pat.model_blocked'),
      overage: await world.notify(ORG, 'user.overage'),
      // Not a webhook event type: never delivered to anyone.
      archive: await world.notify(ORG, 'archive.behind'),
      // Another org's event.
      foreign: await world.notify('org_elsewhere', 'user.overage'),
    };
    await settled(all.id, sent.overage, DeliveryState.DELIVERED);
    await settled(caps.id, sent.overage, DeliveryState.DELIVERED);
    await settled(all.id, sent.blocked, DeliveryState.DELIVERED);
    await settled(all.id, sent.cap, DeliveryState.DELIVERED);
    await settled(caps.id, sent.cap, DeliveryState.DELIVERED);
    const idsFor = (secret: string) =>
      new Set(
        r.received
          .filter((x) => {
            try {
              verify(secret, x);
              return true;
            } catch {
              return false;
            }
          })
          .map((x) => String(x.headers['webhook-id'])),
      );
    assert.deepEqual(idsFor(caps.secret), new Set([sent.cap, sent.overage]));
    assert.deepEqual(idsFor(all.secret), new Set([sent.cap, sent.blocked, sent.overage]));
    const { deliveries } = await world.client.listWebhookDeliveries({ orgId: ORG });
    assert.ok(!deliveries.some((d) => d.eventId === sent.archive || d.eventId === sent.foreign));
  });

  it('retries a failing receiver with the same webhook-id, then dead-letters; a replay sends it again', async () => {
    const r = await receiver();
    r.respond = () => ({ status: 503 });
    const sub = await subscribe(r.url, ['connector.error']);
    const eventId = await world.notify(ORG, 'connector.error', { connectorId: 'zendesk' });
    const failed = await settled(sub.id, eventId, DeliveryState.FAILED);
    assert.deepEqual(
      failed.attempts.map((a) => [a.attempt, a.statusCode, a.state]),
      [
        [1, 503, DeliveryState.PENDING],
        [2, 503, DeliveryState.PENDING],
        [3, 503, DeliveryState.FAILED],
      ],
    );
    assert.equal(r.received.length, 3);
    for (const got of r.received) {
      verify(sub.secret, got);
      assert.equal(got.headers['webhook-id'], eventId);
    }
    // Three tries of one message: a receiver that dedupes by webhook-id handles it once.
    assert.deepEqual(r.verifiedIds(sub.secret), new Set([eventId]));
    assert.ok(
      world.logs.some((l) => l.includes('dead-lettered') && l.includes(eventId)),
      'the dead letter is logged',
    );

    r.respond = () => ({ status: 200 });
    const replayed = await world.client.replayWebhookDelivery({
      orgId: ORG,
      webhookId: sub.id,
      eventId,
      actorId: ACTOR,
    });
    assert.equal(replayed.delivery?.replays, 1);
    const delivered = await settled(sub.id, eventId, DeliveryState.DELIVERED);
    assert.deepEqual(delivered.attempts.map((a) => [a.attempt, a.statusCode, a.state]).at(-1), [
      4,
      200,
      DeliveryState.DELIVERED,
    ]);
    assert.equal(r.received.length, 4);
    const last = r.received[3];
    assert.ok(last);
    verify(sub.secret, last);
    assert.equal(last.headers['webhook-id'], eventId);
    assert.equal(last.body, r.received[0]?.body, 'the same bytes as the first attempt');
  });

  it('counts a redirect as a failure and never follows it', async () => {
    const elsewhere = await receiver();
    const r = await receiver();
    r.respond = () => ({ status: 302, headers: { location: elsewhere.url } });
    const sub = await subscribe(r.url, ['anomaly.detected']);
    const eventId = await world.notify(ORG, 'anomaly.detected');
    const failed = await settled(sub.id, eventId, DeliveryState.FAILED);
    assert.deepEqual(
      failed.attempts.map((a) => a.statusCode),
      [302, 302, 302],
    );
    assert.equal(elsewhere.connections, 0);
  });

  it('gives up an attempt at the timeout and records it as such', async () => {
    const r = await receiver();
    r.respond = () => undefined;
    const sub = await subscribe(r.url, ['credential.expiring']);
    const eventId = await world.notify(ORG, 'credential.expiring');
    const failed = await settled(sub.id, eventId, DeliveryState.FAILED);
    assert.deepEqual(
      failed.attempts.map((a) => [a.statusCode, a.error]),
      [
        [0, 'timeout'],
        [0, 'timeout'],
        [0, 'timeout'],
      ],
    );
  });

  it('signs with the new and the previous secret after a rotation, and shows neither again', async () => {
    const r = await receiver();
    const sub = await subscribe(r.url, ['device.noncompliant']);
    const rotated = await world.client.rotateWebhookSecret({
      orgId: ORG,
      webhookId: sub.id,
      actorId: ACTOR,
    });
    assert.notEqual(rotated.secret, sub.secret);
    const eventId = await world.notify(ORG, 'device.noncompliant');
    await settled(sub.id, eventId, DeliveryState.DELIVERED);
    const got = r.received[0];
    assert.ok(got);
    assert.equal(String(got.headers['webhook-signature']).split(' ').length, 2);
    verify(rotated.secret, got);
    verify(sub.secret, got);
    const shown = JSON.stringify(
      await world.client.getWebhook({ orgId: ORG, webhookId: sub.id }),
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    );
    for (const s of [sub.secret, rotated.secret]) assert.ok(!shown.includes(s.slice(6)));
  });

  it('updates, disables and deletes a subscription, each change in the change log', async () => {
    const r = await receiver();
    const sub = await subscribe(r.url, ['request.denied'], 'org_admin');
    const updated = await world.client.updateWebhook({
      orgId: 'org_admin',
      webhookId: sub.id,
      description: 'soc pager',
      eventTypes: { types: ['request.denied', 'user.overage'] },
      actorId: ACTOR,
    });
    assert.deepEqual(updated.webhook?.eventTypes, ['request.denied', 'user.overage']);
    assert.equal(updated.webhook?.url, r.url);
    await world.client.updateWebhook({
      orgId: 'org_admin',
      webhookId: sub.id,
      enabled: false,
      actorId: ACTOR,
    });
    const skipped = await world.notify('org_admin', 'request.denied');
    // A later event to an enabled subscription proves the disabled one was passed over.
    const probe = await receiver();
    const live = await subscribe(probe.url, ['request.denied'], 'org_admin');
    const after = await world.notify('org_admin', 'request.denied');
    await eventually(
      () => probe.received.find((x) => x.headers['webhook-id'] === after),
      'the enabled subscription to get the later event',
    );
    assert.ok(!r.received.some((x) => x.headers['webhook-id'] === skipped));
    await world.client.deleteWebhook({ orgId: 'org_admin', webhookId: sub.id, actorId: ACTOR });
    await assert.rejects(
      world.client.getWebhook({ orgId: 'org_admin', webhookId: sub.id }),
      (err: ConnectError) => err.code === Code.NotFound,
    );
    const { webhooks } = await world.client.listWebhooks({ orgId: 'org_admin' });
    assert.deepEqual(
      webhooks.map((w) => w.webhookId),
      [live.id],
    );
    const { rows } = await world.pg.admin.query<{
      action: string;
      before: unknown;
      after: unknown;
    }>(
      `SELECT action, event->'change'->'before' AS before, event->'change'->'after' AS after
       FROM audit.events WHERE org_id = 'org_admin' AND resource = $1 ORDER BY org_seq`,
      [`webhook:${sub.id}`],
    );
    assert.deepEqual(
      rows.map((x) => x.action),
      ['webhook.create', 'webhook.update', 'webhook.update', 'webhook.delete'],
    );
    assert.deepEqual(rows[1]?.after, {
      url: r.url,
      eventTypes: ['request.denied', 'user.overage'],
      description: 'soc pager',
      enabled: true,
      secretVersion: 1,
    });
  });

  it('refuses bad input with InvalidArgument, naming the field, and stores nothing', async () => {
    const cases = [
      {
        name: 'unknown event type',
        req: { url: 'http://127.0.0.1:1/x', eventTypes: ['nope'] },
        field: 'event_types',
      },
      { name: 'no url', req: { url: '' }, field: 'url' },
      { name: 'not a url', req: { url: 'not a url' }, field: 'url' },
      { name: 'ftp', req: { url: 'ftp://127.0.0.1/x' }, field: 'url' },
      { name: 'credentials in the url', req: { url: 'https://u:p@example.com/x' }, field: 'url' },
      { name: 'http to a remote host', req: { url: 'http://example.com/x' }, field: 'url' },
      { name: 'bad org', req: { url: 'http://127.0.0.1:1/x', orgId: 'nope' }, field: 'org_id' },
    ];
    for (const c of cases) {
      await assert.rejects(
        world.client.createWebhook({ orgId: 'org_bad', actorId: ACTOR, ...c.req }),
        (err: ConnectError) => {
          assert.equal(err.code, Code.InvalidArgument, c.name);
          assert.equal(err.metadata.get('fortress-field'), c.field, c.name);
          return true;
        },
      );
    }
    const { rows } = await world.pg.admin.query(
      "SELECT 1 FROM audit.webhook_subscriptions WHERE org_id = 'org_bad'",
    );
    assert.equal(rows.length, 0);
  });
});
