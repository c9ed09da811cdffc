import assert from 'node:assert/strict';
import {
  MAX_PATTERN_LENGTH,
  MAX_PROGRAM_SIZE,
  validateCustomPattern,
} from '../src/custom-pattern.js';
import { createRedactor } from '../src/redactor.js';

describe('validateCustomPattern', () => {
  const accepted: { name: string; pattern: string }[] = [
    { name: 'the docs MRN pattern', pattern: String.raw`MRN-\d{8}` },
    { name: 'an inline case-insensitive flag', pattern: String.raw`(?i)mrn-\d{8}` },
    { name: 'word boundaries around text', pattern: String.raw`\bEMP\d{6}\b` },
    { name: 'an IBAN-like shape', pattern: String.raw`[A-Z]{2}\d{2}[A-Z0-9]{11,30}` },
    { name: 'a named group', pattern: String.raw`(?P<id>X\d+)` },
    { name: 'unicode classes', pattern: String.raw`\p{Lu}\p{Ll}+ \p{Lu}\p{Ll}+` },
    { name: 'a quoted literal', pattern: String.raw`\Qa.b\E` },
    { name: 'a pattern at the length limit', pattern: 'a'.repeat(MAX_PATTERN_LENGTH) },
    { name: 'a slash-delimited path without flags', pattern: '/home/' },
  ];
  for (const c of accepted)
    it(`accepts ${c.name}`, () => assert.equal(validateCustomPattern(c.pattern), undefined));

  const refused: { name: string; pattern: string; reason: RegExp }[] = [
    { name: 'an empty pattern', pattern: '', reason: /^pattern is empty$/ },
    {
      name: 'a pattern over the length limit',
      pattern: 'a'.repeat(MAX_PATTERN_LENGTH + 1),
      reason: /is 513 characters long; the limit is 512/,
    },
    { name: 'invalid syntax', pattern: '(abc', reason: /not valid re2 syntax: missing closing \)/ },
    { name: 'an unclosed class', pattern: '[a-z', reason: /not valid re2 syntax/ },
    { name: 'a lookahead', pattern: 'foo(?=bar)', reason: /lookahead or lookbehind/ },
    { name: 'a negative lookahead', pattern: 'foo(?!bar)', reason: /lookahead or lookbehind/ },
    { name: 'a lookbehind', pattern: '(?<=\\$)\\d+', reason: /lookahead or lookbehind/ },
    { name: 'a negative lookbehind', pattern: '(?<!x)y', reason: /lookahead or lookbehind/ },
    { name: 'a numbered backreference', pattern: '(a)\\1', reason: /backreference/ },
    { name: 'a named backreference', pattern: '(?<n>a)\\k<n>', reason: /backreference/ },
    { name: 'a star that matches empty', pattern: 'a*', reason: /matches the empty string/ },
    { name: 'an empty alternative', pattern: 'x|', reason: /matches the empty string/ },
    { name: 'an optional group', pattern: '(?:ab)?', reason: /matches the empty string/ },
    { name: 'a bare word boundary', pattern: '\\b', reason: /matches the empty string/ },
    { name: 'a line anchor', pattern: '(?m)^', reason: /matches the empty string/ },
    { name: 'an end anchor', pattern: '$', reason: /matches the empty string/ },
    { name: 'a non-boundary', pattern: '\\B', reason: /matches the empty string/ },
    {
      name: 'a javascript regex literal with flags',
      pattern: '/MRN-\\d{8}/gi',
      reason: /javascript regex literal; .* use \(\?i\)/,
    },
    {
      name: 'a pattern compiling past the program size limit',
      pattern: '[a-z]{500}[0-9]{500}',
      reason: new RegExp(`instructions; the limit is ${MAX_PROGRAM_SIZE}`),
    },
    { name: 'a repeat count over re2 maximum', pattern: 'a{1001}', reason: /invalid repeat count/ },
    { name: 'an unterminated quote', pattern: '\\Qabc', reason: /unterminated \\Q quote/ },
  ];
  for (const c of refused)
    it(`refuses ${c.name}`, () => assert.match(validateCustomPattern(c.pattern) ?? '', c.reason));

  it('quotes the pattern in its reason, clipped when long', () => {
    assert.match(validateCustomPattern('a*') ?? '', /^pattern "a\*" matches/);
    const long = `(${'b'.repeat(100)}`;
    assert.match(validateCustomPattern(long) ?? '', /^pattern "\(b{59}…" is not valid/);
  });
});

// Proof that custom patterns run on a linear-time engine: on a backtracking engine each of
// these takes exponential time in the input length and this test would never finish.
describe('custom patterns on adversarial input', () => {
  const cases: { name: string; pattern: string; input: string; expected: string }[] = [
    {
      name: 'nested quantifiers anchored at the end, against 50k a and a final !',
      pattern: '(a+)+$',
      input: `${'a'.repeat(50_000)}!`,
      expected: `${'a'.repeat(50_000)}!`,
    },
    {
      name: 'overlapping repeats with a missing final y, against 50k x',
      pattern: '(x+x+)+y',
      input: 'x'.repeat(50_000),
      expected: 'x'.repeat(50_000),
    },
    {
      name: 'overlapping repeats that finally match',
      pattern: '(x+x+)+y',
      input: `${'x'.repeat(50_000)}y!`,
      expected: '[pii]!',
    },
    {
      name: 'alternation of overlapping words',
      pattern: '(?:a|aa)+b',
      input: 'a'.repeat(50_000),
      expected: 'a'.repeat(50_000),
    },
  ];
  for (const c of cases)
    it(`completes with the right result for ${c.name}`, () => {
      const r = createRedactor({
        kinds: [],
        custom: [{ id: 'x', pattern: c.pattern, mask: '[pii]' }],
      });
      const out = r.text(c.input);
      assert.equal(out.text, c.expected);
      assert.deepEqual(out.counts, c.expected === c.input ? {} : { 'custom:x': 1 });
    });
});
