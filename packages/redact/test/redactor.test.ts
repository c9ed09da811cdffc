import assert from 'node:assert/strict';
import { RedactionError } from '../src/profile.js';
import { createRedactor } from '../src/redactor.js';
import { ALL, CORPUS } from './corpus.js';

describe('redactor.text corpus', () => {
  for (const c of CORPUS)
    it(`redacts ${c.name}`, () => {
      const out = createRedactor(c.profile ?? ALL).text(c.input);
      assert.equal(out.text, c.expected);
      assert.deepEqual(out.counts, c.counts);
    });
});

describe('redactor.json', () => {
  const r = createRedactor(ALL);

  it('masks every string in objects and arrays and keeps keys, types and shape', () => {
    const input = {
      user: { 'a@b.io': 'owner', email: 'jane@example.org', tags: ['x', 'call 555-123-4567'] },
      total: 3,
      ok: true,
      none: null,
      nested: [[{ ssn: '123-45-6789' }]],
    };
    const out = r.json(input);
    assert.deepEqual(out.value, {
      user: { 'a@b.io': 'owner', email: '████@████.███', tags: ['x', 'call ███-███-████'] },
      total: 3,
      ok: true,
      none: null,
      nested: [[{ ssn: '███-██-████' }]],
    });
    assert.deepEqual(out.counts, { email: 1, phone: 1, ssn: 1 });
  });

  it('returns a new value and leaves the input as it was', () => {
    const input = { a: ['jane@example.org', { b: 'x' }], c: 'plain' };
    const before = structuredClone(input);
    const out = r.json(input);
    assert.deepEqual(input, before);
    assert.notEqual(out.value, input);
    const value = out.value as { a: [string, object] };
    assert.notEqual(value.a, input.a);
    assert.notEqual(value.a[1], input.a[1]);
  });

  const numbers: { name: string; input: unknown; expected: unknown; counts: object }[] = [
    {
      name: 'a card number becomes 0',
      input: { pan: 4111111111111111 },
      expected: { pan: 0 },
      counts: { card: 1 },
    },
    {
      name: 'a luhn-failing number stays',
      input: { id: 4111111111111112 },
      expected: { id: 4111111111111112 },
      counts: {},
    },
    {
      name: 'a millisecond timestamp stays',
      input: { ts: 1700000000004 },
      expected: { ts: 1700000000004 },
      counts: {},
    },
    {
      name: 'amounts and fractions stay',
      input: [4111, 41.11, -4111111111111111],
      expected: [4111, 41.11, -4111111111111111],
      counts: {},
    },
    {
      name: 'an ssn number under an ssn key becomes 0',
      input: { ssns: [123456789] },
      expected: { ssns: [0] },
      counts: { ssn: 1 },
    },
    {
      name: 'a bigint card number (from a bigint-aware parser) becomes 0n',
      input: [4111111111111111110n, 4111111111111111111n],
      expected: [0n, 4111111111111111111n],
      counts: { card: 1 },
    },
    {
      name: 'a nine-digit number under another key stays',
      input: { zip: 123456789 },
      expected: { zip: 123456789 },
      counts: {},
    },
  ];
  for (const c of numbers)
    it(`keeps json types: ${c.name}`, () => {
      const out = r.json(c.input);
      assert.deepEqual(out.value, c.expected);
      assert.deepEqual(out.counts, c.counts);
    });

  it('leaves card numbers alone when cards are not in the profile', () => {
    const out = createRedactor({ kinds: ['email'], custom: [] }).json({ pan: 4111111111111111 });
    assert.deepEqual(out.value, { pan: 4111111111111111 });
  });

  it('redacts json text inside a string and writes it back as a string', () => {
    const input = {
      content: [
        { type: 'text', text: '{"tickets":[{"email":"a\\u0040b.com","n":12345678901234567890}]}' },
      ],
    };
    const out = r.json(input);
    assert.deepEqual(out.value, {
      content: [
        { type: 'text', text: '{"tickets":[{"email":"████@████.███","n":12345678901234567890}]}' },
      ],
    });
    assert.deepEqual(out.counts, { email: 1 });
  });

  it('still masks json nested in json strings past the depth it parses', () => {
    // The innermost JSON spells one @ as the escape \u0040, which JSON.stringify never writes.
    let text = JSON.stringify({ email: 'a@b.io', other: 'c@d.io' }).replace('c@', 'c\\u0040');
    for (let i = 0; i < 6; i++) text = JSON.stringify({ inner: text });
    const out = r.text(text);
    assert.doesNotMatch(out.text, /a@b\.io|c(?:\\+u0040|@)d\.io/);
    assert.deepEqual(out.counts, { email: 2 });
  });

  it('copies a __proto__ key as an own property, as JSON.parse made it', () => {
    const input = JSON.parse('{"__proto__":{"email":"a@b.io"}}') as object;
    const out = r.json(input).value as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, {
      email: '████@████.███',
    });
  });

  it('walks deeply nested values without overflowing the stack', () => {
    let deep: unknown = 'a@b.io';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    let out = r.json(deep).value;
    for (let i = 0; i < 100_000; i++) out = (out as unknown[])[0];
    assert.equal(out, '████@████.███');
  });

  it('refuses cyclic input', () => {
    const cyclic: Record<string, unknown> = { a: 'x' };
    cyclic['self'] = cyclic;
    assert.throws(() => r.json(cyclic), /value is cyclic/);
  });

  it('returns scalars and leaves dates as they are', () => {
    const when = new Date(0);
    assert.deepEqual(r.json('jane@example.org'), { value: '████@████.███', counts: { email: 1 } });
    assert.deepEqual(r.json(null), { value: null, counts: {} });
    assert.equal((r.json({ when }).value as { when: Date }).when, when);
  });
});

describe('createRedactor', () => {
  it('returns a no-op that hands back its input when the profile is empty', () => {
    for (const profile of [
      { kinds: [], custom: [] },
      { kinds: ['custom'], custom: [] },
    ]) {
      const r = createRedactor(profile);
      const value = { email: 'a@b.io' };
      assert.equal(r.noop, true);
      assert.equal(r.json(value).value, value);
      assert.deepEqual(r.json(value).counts, {});
      assert.deepEqual(r.text('a@b.io'), { text: 'a@b.io', counts: {} });
    }
    assert.equal(createRedactor(ALL).noop, false);
  });

  it('throws a typed error naming an invalid custom pattern', () => {
    const profile = { kinds: [], custom: [{ id: 'bad', pattern: '(a)\\1', mask: '' }] };
    assert.throws(
      () => createRedactor(profile),
      (err: unknown) =>
        err instanceof RedactionError &&
        err.reason === 'invalid_pattern' &&
        err.patternId === 'bad' &&
        /^custom pattern "bad" is invalid: .*backreference/.test(err.message),
    );
  });

  it('throws on a kind it does not know rather than skip it', () => {
    assert.throws(
      () => createRedactor({ kinds: ['email', 'passport'], custom: [] }),
      (err: unknown) =>
        err instanceof RedactionError &&
        err.reason === 'unknown_kind' &&
        err.message === 'unknown redaction kind "passport"',
    );
  });

  it('refuses input over the size cap, counting every string of a json value', () => {
    const r = createRedactor(ALL, { maxInputChars: 10 });
    assert.equal(r.text('0123456789').text, '0123456789');
    const tooLarge = (err: unknown) =>
      err instanceof RedactionError && err.reason === 'input_too_large';
    assert.throws(() => r.text('0123456789a'), tooLarge);
    assert.throws(() => r.json(['012345', '67890']), tooLarge);
    assert.deepEqual(r.json(['01234', '56789']).value, ['01234', '56789']);
  });

  it('gives the same result when a redactor is reused', () => {
    const r = createRedactor(ALL);
    const first = r.text('a@b.io 555-123-4567 MRN-12345678');
    assert.deepEqual(r.text('a@b.io 555-123-4567 MRN-12345678'), first);
  });
});

// Built-in detectors run on V8's backtracking engine with bounded patterns only: each input
// here would take quadratic time or worse if any pattern could backtrack without bound.
describe('built-in detectors on adversarial input', () => {
  const r = createRedactor({ kinds: ['email', 'phone', 'ssn', 'card'], custom: [] });
  const n = 200_000;
  const cases: { name: string; input: string; expected?: string; counts?: object }[] = [
    { name: 'a long run of letters', input: 'a'.repeat(n) },
    { name: 'a long run of digits', input: '1'.repeat(n) },
    { name: 'a long run of @', input: '@'.repeat(n) },
    { name: 'alternating local parts and @', input: 'a@'.repeat(n / 2) },
    { name: 'url-encoded @ with hex-like local parts', input: 'a%40'.repeat(n / 4) },
    {
      name: 'backslash runs before escapes that are not @',
      input: `${'\\'.repeat(n / 2)}u0041`.repeat(2),
    },
    { name: 'a domain that never ends in a tld', input: `x@${'a.1'.repeat(n / 3)}` },
    { name: 'digit groups that never make a card', input: '1234 '.repeat(n / 5) },
    { name: 'plus signs and short groups', input: '+1 2 '.repeat(n / 5) },
    {
      name: 'one real address after a long run of local-part characters',
      input: `${'a.'.repeat(n / 2)} jane@example.org`,
      expected: `${'a.'.repeat(n / 2)} ████@████.███`,
      counts: { email: 1 },
    },
  ];
  for (const c of cases)
    it(`finishes with the right result on ${c.name}`, () => {
      const out = r.text(c.input);
      assert.equal(out.text, c.expected ?? c.input);
      assert.deepEqual(out.counts, c.counts ?? {});
    });
});
