import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { Secret } from '@fortress/kit/secret';
import { formatSecret, newSigningKey, signDelivery } from '../../src/domain/webhook-signature.js';

describe('webhook signatures', () => {
  const body = JSON.stringify({
    type: 'user.overage',
    timestamp: '2026-11-22T12:00:00.000Z',
    data: { n: 1 },
  });

  it('produce headers the reference Standard Webhooks verifier accepts', () => {
    const key = newSigningKey();
    const shown = formatSecret(key);
    const ts = Math.floor(Date.now() / 1000);
    const headers = signDelivery([key], 'evt-1', ts, body);
    assert.deepEqual(new Webhook(shown).verify(body, { ...headers }), JSON.parse(body));
    // The reference signer makes the same signature.
    assert.equal(
      headers['webhook-signature'],
      new Webhook(shown).sign('evt-1', new Date(ts * 1000), body),
    );
  });

  it('carry one signature per key, so either secret verifies during a rotation', () => {
    const [a, b] = [newSigningKey(), newSigningKey()];
    const headers = signDelivery([a, b], 'evt-2', Math.floor(Date.now() / 1000), body);
    assert.equal(headers['webhook-signature'].split(' ').length, 2);
    for (const k of [a, b]) new Webhook(formatSecret(k)).verify(body, { ...headers });
    assert.throws(() => new Webhook(formatSecret(newSigningKey())).verify(body, { ...headers }));
  });

  it('shows the secret as whsec_ and base64 of 32 bytes, and never through String or JSON', () => {
    const key = newSigningKey();
    assert.match(formatSecret(key), /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(String(key), '[redacted]');
    assert.equal(JSON.stringify({ key }), '{"key":"[redacted]"}');
    assert.ok(key instanceof Secret);
  });
});
