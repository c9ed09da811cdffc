import assert from 'node:assert/strict';
import { Code, type ConnectError } from '@connectrpc/connect';
import { eventually } from '@fortress/harness/eventually';
import { DeliveryState } from '@fortress/proto/audit/v1/webhook_pb';
import type { Lookup } from '../../src/adapters/dns/resolve-target.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';
import { startWebhookWorld, type WebhookWorld } from '../support/webhook-world.js';

const ORG = 'org_ssrf';
const ACTOR = 'admin_1';
const PUBLIC = '93.184.215.14';

/** DNS as the tests want it; "rebinding.test" answers whatever `rebindTo` says at the time. */
let rebindTo = PUBLIC;
const lookup: Lookup = (host) => {
  const table: Record<string, string[]> = {
    'public.test': [PUBLIC],
    'loopback.test': ['127.0.0.1'],
    'metadata.test': ['169.254.169.254'],
    'mixed.test': [PUBLIC, '10.0.0.9'],
    'v6private.test': ['fd12:3456::1'],
    'rebinding.test': [rebindTo],
  };
  const addresses = table[host];
  if (!addresses)
    return Promise.reject(Object.assign(new Error('no such host'), { code: 'ENOTFOUND' }));
  return Promise.resolve(
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
  );
};

describe('webhook targets in production mode (SSRF)', function () {
  this.timeout(120_000);
  let world: WebhookWorld;
  let receiver: Receiver;

  before(async () => {
    world = await startWebhookWorld({ mode: 'production', lookup, attempts: 2, backoffMs: 20 });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await world?.stop();
  });

  const refused = [
    { name: 'http in production', url: 'http://public.test/hooks' },
    { name: 'loopback literal', url: 'https://127.0.0.1/hooks' },
    { name: 'loopback in decimal', url: 'https://2130706433/hooks' },
    { name: 'private 10/8', url: 'https://10.1.2.3/hooks' },
    { name: 'private 192.168/16', url: 'https://192.168.0.10:8443/hooks' },
    { name: 'cloud metadata', url: 'https://169.254.169.254/latest/meta-data/' },
    { name: 'CGNAT', url: 'https://100.64.1.1/hooks' },
    { name: 'unspecified', url: 'https://0.0.0.0/hooks' },
    { name: 'IPv6 loopback', url: 'https://[::1]/hooks' },
    { name: 'IPv6 link-local', url: 'https://[fe80::1]/hooks' },
    { name: 'IPv4-mapped private', url: 'https://[::ffff:10.0.0.1]/hooks' },
    { name: 'IPv4-mapped metadata', url: 'https://[::ffff:169.254.169.254]/hooks' },
    { name: 'localhost by name', url: 'https://localhost/hooks' },
    { name: 'a name resolving to loopback', url: 'https://loopback.test/hooks' },
    { name: 'a name resolving to metadata', url: 'https://metadata.test/hooks' },
    { name: 'a name with one private address', url: 'https://mixed.test/hooks' },
    { name: 'a name resolving to a unique-local IPv6', url: 'https://v6private.test/hooks' },
    { name: 'a name that does not resolve', url: 'https://nowhere.test/hooks' },
  ];
  for (const c of refused)
    it(`refuses ${c.name} at creation and stores nothing`, async () => {
      await assert.rejects(
        world.client.createWebhook({ orgId: ORG, url: c.url, actorId: ACTOR }),
        (err: ConnectError) => {
          assert.equal(err.code, Code.InvalidArgument);
          assert.equal(err.metadata.get('fortress-field'), 'url');
          return true;
        },
      );
      const { rows } = await world.pg.admin.query(
        `SELECT (SELECT count(*) FROM audit.webhook_subscriptions WHERE org_id = $1)::int AS subs,
                (SELECT count(*) FROM audit.events WHERE org_id = $1)::int AS changes`,
        [ORG],
      );
      assert.deepEqual(rows[0], { subs: 0, changes: 0 });
    });

  it('accepts a public target, and refuses an update to a private one, keeping the URL', async () => {
    const { webhook } = await world.client.createWebhook({
      orgId: 'org_public',
      url: 'https://public.test/hooks',
      actorId: ACTOR,
    });
    assert.ok(webhook);
    await assert.rejects(
      world.client.updateWebhook({
        orgId: 'org_public',
        webhookId: webhook.webhookId,
        url: 'https://metadata.test/hooks',
        actorId: ACTOR,
      }),
      (err: ConnectError) => err.code === Code.InvalidArgument,
    );
    const { webhook: now } = await world.client.getWebhook({
      orgId: 'org_public',
      webhookId: webhook.webhookId,
    });
    assert.equal(now?.url, 'https://public.test/hooks');
  });

  it('refuses at delivery a host that has turned private since creation (DNS rebinding)', async () => {
    rebindTo = PUBLIC;
    const { webhook } = await world.client.createWebhook({
      orgId: 'org_rebind',
      // The receiver's port: were the check skipped, the POST would reach it on loopback.
      url: `https://rebinding.test:${receiver.port}/hooks`,
      actorId: ACTOR,
    });
    assert.ok(webhook);
    rebindTo = '127.0.0.1';
    const eventId = await world.notify('org_rebind', 'request.denied');
    const failed = await eventually(async () => {
      const { deliveries } = await world.client.listWebhookDeliveries({
        orgId: 'org_rebind',
        eventId,
      });
      return deliveries.find((d) => d.state === DeliveryState.FAILED);
    }, 'the delivery to be refused');
    assert.deepEqual(
      failed.attempts.map((a) => [a.statusCode, a.error]),
      [
        [0, 'address_refused'],
        [0, 'address_refused'],
      ],
    );
    assert.equal(receiver.connections, 0, 'no connection was made');
  });
});
