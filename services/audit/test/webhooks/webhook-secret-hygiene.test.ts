import assert from 'node:assert/strict';
import { toJsonString, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { ConnectError } from '@connectrpc/connect';
import { eventually } from '@fortress/harness/eventually';
import { DeliveryState, WebhookService } from '@fortress/proto/audit/v1/webhook_pb';
import { redisText } from '../support/redis-text.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';
import { startWebhookWorld, type WebhookWorld } from '../support/webhook-world.js';

const ORG = 'org_hygiene';
const ACTOR = 'admin_1';

/** Every form a leaked secret could take: as shown, its base64, its bytes in hex and base64url. */
function canaries(secret: string): string[] {
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return [secret, secret.slice(6), bytes.toString('hex'), bytes.toString('base64url')];
}

describe('webhook secrets stay secret', function () {
  this.timeout(120_000);
  let world: WebhookWorld;
  let receiver: Receiver;

  before(async () => {
    world = await startWebhookWorld({ attempts: 2, backoffMs: 20 });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await world?.stop();
  });

  it('appears in no log line, response, error, table or Redis value — only in the one response that shows it', async () => {
    const seen: string[] = [];
    const keep = <D extends DescMessage>(schema: D, res: MessageShape<D>) => {
      seen.push(toJsonString(schema, res));
      return res;
    };
    const { client } = world;
    const created = await client.createWebhook({
      orgId: ORG,
      url: receiver.url,
      description: 'pager',
      actorId: ACTOR,
    });
    const id = created.webhook?.webhookId ?? '';
    const rotated = await client.rotateWebhookSecret({ orgId: ORG, webhookId: id, actorId: ACTOR });
    const secrets = [created.secret, rotated.secret];

    const m = WebhookService.method;
    keep(m.getWebhook.output, await client.getWebhook({ orgId: ORG, webhookId: id }));
    keep(m.listWebhooks.output, await client.listWebhooks({ orgId: ORG }));
    keep(
      m.updateWebhook.output,
      await client.updateWebhook({ orgId: ORG, webhookId: id, description: 'x', actorId: ACTOR }),
    );

    // A delivered event, a failed one, a replay.
    const ok = await world.notify(ORG, 'user.overage');
    receiver.respond = (r) => (r.headers['webhook-id'] === ok ? { status: 204 } : { status: 500 });
    const bad = await world.notify(ORG, 'connector.killed');
    const logged = async (eventId: string, state: DeliveryState) =>
      eventually(async () => {
        const res = await client.listWebhookDeliveries({ orgId: ORG, eventId });
        return res.deliveries.some((d) => d.state === state) ? res : undefined;
      }, `${eventId} ${DeliveryState[state]}`);
    keep(m.listWebhookDeliveries.output, await logged(ok, DeliveryState.DELIVERED));
    keep(m.listWebhookDeliveries.output, await logged(bad, DeliveryState.FAILED));
    keep(
      m.replayWebhookDelivery.output,
      await client.replayWebhookDelivery({
        orgId: ORG,
        webhookId: id,
        eventId: bad,
        actorId: ACTOR,
      }),
    );
    await eventually(
      async () =>
        (await logged(bad, DeliveryState.FAILED)).deliveries[0]?.attempts.length === 4
          ? true
          : undefined,
      'both attempts of the replay to fail too',
    );

    // Errors: bad input and missing things.
    for (const call of [
      () => client.getWebhook({ orgId: ORG, webhookId: 'wh_missing' }),
      () => client.createWebhook({ orgId: ORG, url: `https://x/${created.secret}`, actorId: '' }),
      () => client.updateWebhook({ orgId: ORG, webhookId: id, url: 'ftp://x', actorId: ACTOR }),
      () =>
        client.replayWebhookDelivery({
          orgId: ORG,
          webhookId: id,
          eventId: 'nope',
          actorId: ACTOR,
        }),
    ]) {
      const err = await call().then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConnectError);
      seen.push(err.message, JSON.stringify([...err.metadata]));
    }

    const signatures = receiver.received.map((r) => String(r.headers['webhook-signature']));
    assert.ok(signatures.length >= 4);
    const tables = await world.pg.admin.query<{ t: string }>(
      `SELECT string_agg(t::text, E'\\n') AS t FROM (
         SELECT row_to_json(s)::text AS t FROM audit.webhook_subscriptions s
         UNION ALL SELECT row_to_json(m)::text FROM audit.webhook_messages m
         UNION ALL SELECT row_to_json(d)::text FROM audit.webhook_deliveries d
         UNION ALL SELECT row_to_json(a)::text FROM audit.webhook_attempts a
         UNION ALL SELECT row_to_json(e)::text FROM audit.events e) x`,
    );
    const places = {
      logs: world.logs.join('\n'),
      responses: seen.join('\n'),
      tables: tables.rows[0]?.t ?? '',
      redis: await redisText(world.redis.url),
    };
    assert.ok(places.logs.includes('will retry'), 'the logs were captured');
    assert.ok(places.tables.includes('webhook.rotate'), 'the change log was read');
    for (const [where, text] of Object.entries<string>(places)) {
      for (const secret of secrets)
        for (const canary of canaries(secret))
          assert.ok(!text.includes(canary), `a form of the secret is in ${where}`);
      if (where !== 'tables')
        for (const sig of signatures) {
          for (const part of sig.split(' '))
            assert.ok(!text.includes(part.slice(3)), `a signature is in ${where}`);
        }
    }
  });
});
