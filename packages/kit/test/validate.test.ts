import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../src/errors.js';
import {
  clip,
  decodePageToken,
  encodePageToken,
  pageSize,
  requireId,
  requireNames,
  requireText,
} from '../src/validate.js';

/** Asserts that `fn` throws an InvalidArgumentError naming `field` with a message matching `message`. */
function throwsInvalid(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, String(err));
    assert.equal(err.field, field);
    assert.equal(err.reason, 'invalid_argument');
    assert.match(err.message, message);
    return true;
  });
}

describe('requireId', () => {
  const accepted = [
    { name: 'a plain id', value: 'org_3f9a', prefix: undefined },
    { name: 'an id with the asked prefix', value: 'cred_AbC123', prefix: 'cred' },
  ];
  for (const c of accepted) {
    it(`returns ${c.name} unchanged`, () =>
      assert.equal(requireId('id', c.value, c.prefix), c.value));
  }

  const refused = [
    {
      name: 'an empty value',
      value: '',
      prefix: undefined,
      message: /id must be an id like "org_123abc", got ""/,
    },
    { name: 'no underscore', value: 'org3f9a', prefix: undefined, message: /got "org3f9a"/ },
    { name: 'an uppercase prefix', value: 'ORG_1', prefix: undefined, message: /got "ORG_1"/ },
    {
      name: 'punctuation in the body',
      value: "org_1';--",
      prefix: undefined,
      message: /got "org_1';--"/,
    },
    {
      name: 'another prefix',
      value: 'key_1',
      prefix: 'org',
      message: /id must be "org_" followed by letters and digits, got "key_1"/,
    },
    {
      name: 'a body longer than 64',
      value: `org_${'a'.repeat(65)}`,
      prefix: undefined,
      message: /…"$/,
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}, quoting the input`, () =>
      throwsInvalid(() => requireId('id', c.value, c.prefix), 'id', c.message));
  }
});

describe('requireText', () => {
  it('returns the text trimmed', () =>
    assert.equal(requireText('label', '  prod key  '), 'prod key'));
  it('accepts text of exactly the maximum length', () =>
    assert.equal(requireText('label', 'x'.repeat(10), 10), 'x'.repeat(10)));
  it('refuses blank text', () =>
    throwsInvalid(() => requireText('label', ' \t\n '), 'label', /^label is required$/));
  it('refuses text over the maximum length', () =>
    throwsInvalid(
      () => requireText('label', 'x'.repeat(11), 10),
      'label',
      /^label must be at most 10 characters$/,
    ));
});

describe('requireNames', () => {
  it('returns names of the allowed shape', () => {
    const names = ['developer', 'claude-sonnet-4.5', 'ns:role_1'];
    assert.deepEqual(requireNames('roles', names), names);
  });
  const refused = [
    { name: 'a quote', value: 'dev"' },
    { name: 'a space', value: 'dev ops' },
    { name: 'an empty name', value: '' },
    { name: 'a name over 128 characters', value: 'r'.repeat(129) },
  ];
  for (const c of refused) {
    it(`refuses a name with ${c.name}`, () =>
      throwsInvalid(
        () => requireNames('roles', ['ok', c.value]),
        'roles',
        /roles has an invalid entry/,
      ));
  }
});

describe('pageSize', () => {
  const cases = [
    { name: 'zero means the default', requested: 0, expected: 50 },
    { name: 'a negative size becomes 1', requested: -5, expected: 1 },
    { name: 'a size within bounds is kept', requested: 20, expected: 20 },
    { name: 'a size over the maximum is clamped', requested: 10_000, expected: 500 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(pageSize(c.requested), c.expected));
});

describe('page tokens', () => {
  it('decode what they encode', () =>
    assert.equal(decodePageToken('page_token', encodePageToken('key_abc123')), 'key_abc123'));
  it('decode "" as the first page', () => assert.equal(decodePageToken('page_token', ''), ''));
  it('refuse a token that does not decode to an id', () =>
    throwsInvalid(
      () => decodePageToken('page_token', encodePageToken("x' OR 1=1")),
      'page_token',
      /page_token is not a valid page token/,
    ));
});

describe('clip', () => {
  it('keeps short values', () => assert.equal(clip('abc', 5), 'abc'));
  it('cuts long values and marks the cut', () => assert.equal(clip('abcdefgh', 5), 'abcde…'));
});
