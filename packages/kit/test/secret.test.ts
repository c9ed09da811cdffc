import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { Secret } from '../src/secret.js';

const CANARY = 'sk-ant-canary-91b2';

describe('Secret', () => {
  const conversions = [
    { name: 'String()', show: (s: Secret) => String(s) },
    { name: 'toString()', show: (s: Secret) => s.toString() },
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- what a template literal shows is the point
    { name: 'a template literal', show: (s: Secret) => `${s}` },
    { name: 'string concatenation', show: (s: Secret) => 'key=' + s.toString() },
    { name: 'JSON.stringify', show: (s: Secret) => JSON.stringify({ s }) },
    { name: 'util.inspect', show: (s: Secret) => inspect(s) },
    {
      name: 'util.inspect nested and deep',
      show: (s: Secret) => inspect({ a: { b: s } }, { depth: 10, showHidden: true }),
    },
  ];
  for (const c of conversions) {
    it(`never reveals the value through ${c.name}`, () => {
      const shown = c.show(new Secret(CANARY));
      assert.ok(shown.includes('[redacted]'), shown);
      assert.ok(!shown.includes(CANARY), shown);
    });
  }

  it('gives the value back through reveal() and bytes()', () => {
    const s = new Secret(CANARY);
    assert.equal(s.reveal(), CANARY);
    assert.deepEqual(s.bytes(), Buffer.from(CANARY));
  });

  it('exposes no enumerable property holding the value', () => {
    const s = new Secret(CANARY);
    assert.deepEqual(Object.keys(s), []);
    assert.ok(
      !JSON.stringify(
        Object.getOwnPropertyNames(s).map((k) => (s as unknown as Record<string, unknown>)[k]),
      ).includes(CANARY),
    );
  });

  it('zeroes the bytes of a string-made secret when destroyed', () => {
    const s = new Secret(CANARY);
    const bytes = s.bytes();
    s.destroy();
    assert.ok(bytes.every((b) => b === 0));
    assert.equal(bytes.length, Buffer.byteLength(CANARY));
    assert.ok(!s.reveal().includes(CANARY));
  });

  it('zeroes the very Buffer it was given when destroyed', () => {
    const owned = Buffer.from(CANARY);
    new Secret(owned).destroy();
    assert.ok(owned.every((b) => b === 0));
  });
});
