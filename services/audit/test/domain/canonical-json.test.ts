import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson } from '../../src/domain/canonical-json.js';

describe('canonicalJson', () => {
  const cases = [
    {
      name: 'sorts keys at every depth',
      value: { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } },
      text: '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    },
    {
      name: 'sorts keys by UTF-16 code units, not locale',
      value: { é: 1, z: 2, Z: 3, aa: 4, a: 5 },
      text: '{"Z":3,"a":5,"aa":4,"z":2,"é":1}',
    },
    {
      name: 'leaves out undefined properties, as jsonb never sees them',
      value: { a: undefined, b: 'x' },
      text: '{"b":"x"}',
    },
    {
      name: 'writes strings and numbers as JSON.stringify does',
      value: ['line\nbreak "q" \u0001', 1e21, 0.1, -0, 5e-7],
      text: '["line\\nbreak \\"q\\" \\u0001",1e+21,0.1,0,5e-7]',
    },
    { name: 'writes an empty object and array', value: { o: {}, a: [] }, text: '{"a":[],"o":{}}' },
  ];
  for (const c of cases)
    it(`${c.name}`, () => {
      assert.equal(canonicalJson(c.value), c.text);
    });

  const refused = [
    { name: 'NaN', value: { n: Number.NaN } },
    { name: 'Infinity', value: [Number.POSITIVE_INFINITY] },
    { name: 'a bigint', value: { n: 1n } },
  ];
  for (const c of refused)
    it(`refuses ${c.name} rather than changing it`, () => {
      assert.throws(() => canonicalJson(c.value), TypeError);
    });

  it('writes every string exactly as JSON.stringify does, plain or escaped', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        assert.equal(canonicalJson(s), JSON.stringify(s));
        assert.equal(canonicalJson({ [s]: 1 }), `{${JSON.stringify(s)}:1}`);
      }),
    );
  });

  it('is the same for any key order and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        const reparsed: unknown = JSON.parse(text);
        assert.equal(canonicalJson(reparsed), text);
        assert.deepEqual(reparsed, JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});
