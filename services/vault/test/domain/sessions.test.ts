import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { EpochRow } from '../../src/domain/records.js';
import { createSessionRegistry } from '../../src/domain/sessions.js';

const isZero = (b: Buffer) => b.every((x) => x === 0);

const epoch = (n: number, scheme: EpochRow['scheme'] = 'p256'): EpochRow => ({
  org_id: 'org_zt',
  epoch: n,
  kms_key_id: 'k',
  wrapped_key: Buffer.from([n]),
  scheme,
  tier: 'zero_trust',
  kms_endpoint: '',
  public_key: scheme === 'p256' ? randomBytes(32) : null,
  created_at: new Date(),
});

/** A registry over fake KMS and a hand-moved clock; it records every key it handed out. */
function setup(epochs: EpochRow[] = [epoch(1), epoch(2, 'aes')]) {
  const clock = { now: 1_000_000 };
  const handedOut: Buffer[] = [];
  const kms = { failing: false, calls: 0 };
  const registry = createSessionRegistry({
    epochs: () => Promise.resolve(epochs),
    unwrapPrivate: () => {
      kms.calls += 1;
      if (kms.failing) return Promise.reject(new Error('kms down'));
      const key = randomBytes(32);
      handedOut.push(key);
      return Promise.resolve(key);
    },
    maxTtlMs: 10_000,
    maxSessions: 2,
    now: () => clock.now,
  });
  return { registry, clock, handedOut, kms };
}

const owner = { orgId: 'org_zt', subjectId: 'usr_1', deviceId: 'dev_1' };

describe('Zero Trust sessions', () => {
  it('fetches the org’s Zero Trust keys (not its AES epochs) when a session opens', async () => {
    const { registry, handedOut, kms } = setup();
    const s = await registry.open(owner, 5000);
    assert.ok(s);
    assert.match(s.id, /^ses_[0-9a-f]{32}$/);
    assert.equal(kms.calls, 1);
    const used = await registry.withKey(s.id, owner, epoch(1), (k) => Buffer.from(k));
    assert.ok(used.ok);
    assert.deepEqual(used.value, handedOut[0]);
  });

  it('zeroes every key of a session when it is closed, and serves nothing after', async () => {
    const { registry, handedOut } = setup();
    const s = await registry.open(owner, 5000);
    assert.ok(s);
    assert.equal(registry.close('org_zt', s.id), true);
    assert.ok(handedOut.every(isZero));
    assert.equal(registry.check(s.id, 'org_zt', 'usr_1'), 'session_not_found');
  });

  it('refuses and zeroes a session past its lifetime, capped by the maximum', async () => {
    const { registry, clock, handedOut } = setup();
    const s = await registry.open(owner, 60_000);
    assert.ok(s);
    clock.now += 9_999;
    assert.equal(registry.check(s.id, 'org_zt', 'usr_1'), undefined);
    clock.now += 1;
    assert.equal(registry.check(s.id, 'org_zt', 'usr_1'), 'session_expired');
    assert.ok(handedOut.every(isZero));
    assert.equal(registry.size, 0);
  });

  const mismatches = [
    {
      name: 'no session id',
      id: (_: string) => '',
      org: 'org_zt',
      subject: 'usr_1',
      want: 'session_required',
    },
    {
      name: 'an unknown id',
      id: (_: string) => 'ses_unknown',
      org: 'org_zt',
      subject: 'usr_1',
      want: 'session_not_found',
    },
    {
      name: 'another org',
      id: (s: string) => s,
      org: 'org_other',
      subject: 'usr_1',
      want: 'session_wrong_principal',
    },
    {
      name: 'another subject',
      id: (s: string) => s,
      org: 'org_zt',
      subject: 'usr_2',
      want: 'session_wrong_principal',
    },
  ];
  for (const m of mismatches) {
    it(`refuses ${m.name}`, async () => {
      const { registry } = setup();
      const s = await registry.open(owner, 5000);
      assert.ok(s);
      const r = await registry.withKey(
        m.id(s.id),
        { orgId: m.org, subjectId: m.subject },
        epoch(1),
        () => 1,
      );
      assert.deepEqual(r, { ok: false, refusal: m.want });
    });
  }

  it('fetches a key for an epoch newer than the session, once', async () => {
    const { registry, kms } = setup();
    const s = await registry.open(owner, 5000);
    assert.ok(s);
    for (let i = 0; i < 3; i++)
      assert.ok((await registry.withKey(s.id, owner, epoch(3), () => 1)).ok);
    assert.equal(kms.calls, 2);
  });

  it('opens nothing, and leaves no key behind, when KMS fails midway', async () => {
    const { registry, kms, handedOut } = setup([epoch(1), epoch(2)]);
    let calls = 0;
    const failing = createSessionRegistry({
      epochs: () => Promise.resolve([epoch(1), epoch(2)]),
      unwrapPrivate: () => {
        calls += 1;
        if (calls === 2) return Promise.reject(new Error('kms down'));
        const key = randomBytes(32);
        handedOut.push(key);
        return Promise.resolve(key);
      },
      maxTtlMs: 10_000,
      maxSessions: 2,
    });
    await assert.rejects(failing.open(owner, 5000), /kms down/);
    assert.equal(failing.size, 0);
    assert.ok(handedOut.length === 1 && handedOut.every(isZero));
    assert.equal(kms.calls, 0);
    assert.equal(registry.size, 0);
  });

  it('refuses to open more sessions than its maximum', async () => {
    const { registry } = setup();
    assert.ok(await registry.open(owner, 5000));
    assert.ok(await registry.open(owner, 5000));
    assert.equal(await registry.open(owner, 5000), undefined);
  });

  it('zeroes one epoch everywhere when it is retired, and every session of a shredded org', async () => {
    const { registry, handedOut } = setup([epoch(1), epoch(2)]);
    const a = await registry.open(owner, 5000);
    assert.ok(a);
    registry.forgetEpoch('org_zt', 1);
    assert.ok(handedOut.filter((_, i) => i % 2 === 0).every(isZero));
    assert.ok(!isZero(handedOut[1] ?? Buffer.alloc(1)));
    assert.equal(registry.anyKey('org_zt', 1), undefined);
    assert.ok(registry.anyKey('org_zt', 2));
    registry.closeOrg('org_zt');
    assert.ok(handedOut.every(isZero));
  });
});
