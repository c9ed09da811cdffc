import type { Counts, CustomPattern, RedactionProfile } from '../src/profile.js';

/** One redaction case: text in, text out, and what the audit would record. */
export interface CorpusCase {
  name: string;
  input: string;
  /** Defaults to ALL. */
  profile?: RedactionProfile;
  expected: string;
  counts: Counts;
}

const MRN: CustomPattern = { id: 'mrn', pattern: String.raw`(?i)MRN-\d{8}`, mask: 'MRN-████████' };

/** Every built-in kind plus the docs' MRN pattern. */
export const ALL: RedactionProfile = { kinds: ['email', 'phone', 'ssn', 'card'], custom: [MRN] };
const only = (...kinds: string[]): RedactionProfile => ({ kinds, custom: [] });
const custom = (...patterns: CustomPattern[]): RedactionProfile => ({
  kinds: ['email', 'phone', 'ssn', 'card'],
  custom: patterns,
});

/** Text cases for redactor.text; the docs' examples first. */
export const CORPUS: CorpusCase[] = [
  // The product docs' examples, mask shapes exactly as documented.
  { name: 'docs email', input: 'user@domain.com', expected: '████@████.███', counts: { email: 1 } },
  {
    name: 'docs phone',
    input: '+1-555-123-4567',
    expected: '+█-███-███-████',
    counts: { phone: 1 },
  },
  { name: 'docs ssn', input: '123-45-6789', expected: '███-██-████', counts: { ssn: 1 } },
  {
    name: 'card with dashes',
    input: '4111-1111-1111-1111',
    expected: '████-████-████-████',
    counts: { card: 1 },
  },
  {
    name: 'docs card example fails luhn, so it is not a card and stays',
    input: '4111-1234-5678-9012',
    expected: '4111-1234-5678-9012',
    counts: {},
  },
  {
    name: 'docs custom pattern, case-insensitive through (?i)',
    input: 'Chart MRN-12345678 and mrn-87654321.',
    expected: 'Chart MRN-████████ and MRN-████████.',
    counts: { 'custom:mrn': 2 },
  },

  // Email.
  {
    name: 'email with plus-addressing and subdomains',
    input: 'Reply to john.doe+billing@mail.eu.example.co.uk today',
    expected: 'Reply to ████@████.███ today',
    counts: { email: 1 },
  },
  {
    name: 'email in a url query string',
    input: 'https://x.com/?u=a.b@c.io&next=/home',
    expected: 'https://x.com/?u=████@████.███&next=/home',
    counts: { email: 1 },
  },
  {
    name: 'url-encoded email in a query string',
    input: 'https://x.com/unsubscribe?email=jane.doe%40example.org&t=1',
    expected: 'https://x.com/unsubscribe?email=████@████.███&t=1',
    counts: { email: 1 },
  },
  {
    name: 'url-encoded plus inside the local part is masked with it',
    input: '?to=jane%2Bsales%40example.org',
    expected: '?to=████@████.███',
    counts: { email: 1 },
  },
  {
    name: 'mailto link with a subject',
    input: '<a href="mailto:support@acme.io?subject=Hi">support@acme.io</a>',
    expected: '<a href="mailto:████@████.███?subject=Hi">████@████.███</a>',
    counts: { email: 2 },
  },
  {
    name: 'quotes, brackets and punctuation around an email stay',
    input: `"a@b.io", 'c@d.io'; <e@f.io> (g@h.io). [i@j.io]!`,
    expected: `"████@████.███", '████@████.███'; <████@████.███> (████@████.███). [████@████.███]!`,
    counts: { email: 5 },
  },
  {
    name: 'sentence-final period is not part of the domain',
    input: 'Write to ops@example.com.',
    expected: 'Write to ████@████.███.',
    counts: { email: 1 },
  },
  {
    name: 'escaped quotes and backslashes in raw json-ish text stay',
    input: String.raw`{\"email\":\"a@b.io\"}`,
    expected: String.raw`{\"email\":\"████@████.███\"}`,
    counts: { email: 1 },
  },
  {
    name: 'json unicode escape for @ in text that is not valid json',
    input: String.raw`{"email":"jane\u0040example.org", "note": "trunc`,
    expected: String.raw`{"email":"████@████.███", "note": "trunc`,
    counts: { email: 1 },
  },
  {
    name: 'doubly escaped @ in json text nested in a json string',
    input: String.raw`"{\"to\":\"jane\\u0040example.org\"}`,
    expected: String.raw`"{\"to\":\"████@████.███\"}`,
    counts: { email: 1 },
  },
  {
    name: 'escaped newline before a local part is not swallowed',
    input: String.raw`line1\nbob@example.org`,
    expected: String.raw`line1\n████@████.███`,
    counts: { email: 1 },
  },
  {
    name: 'html entity for @',
    input: 'contact: jane&#64;example.org',
    expected: 'contact: ████@████.███',
    counts: { email: 1 },
  },
  {
    name: 'apostrophe inside a local part, quote before it',
    input: "'o'brien@example.ie'",
    expected: "'████@████.███'",
    counts: { email: 1 },
  },
  {
    name: 'unicode local part and IDN domain',
    input: 'Écrire à ünïcødé@exämple.de ou 用户@例子.广告',
    expected: 'Écrire à ████@████.███ ou ████@████.███',
    counts: { email: 2 },
  },
  {
    name: 'emoji, CJK and RTL text around an email keep their bytes',
    input: '😀 مرحبا jane@example.org 日本語 👍🏽',
    expected: '😀 مرحبا ████@████.███ 日本語 👍🏽',
    counts: { email: 1 },
  },
  {
    name: 'userinfo in a url is masked with the host',
    input: 'https://admin:s3cret@db.internal.io/x',
    expected: 'https://admin:████@████.███/x',
    counts: { email: 1 },
  },
  {
    name: 'not emails: handles, package versions, hosts without a tld, retina assets',
    input: '@jane npm i pkg@1.2.3 user@localhost a@b.c icon@2x.png foo@ @bar.com',
    expected: '@jane npm i pkg@1.2.3 user@localhost a@b.c icon@2x.png foo@ @bar.com',
    counts: {},
  },
  {
    name: 'two addresses joined by @ become one span',
    input: 'a@b.io@c.io',
    expected: '████@████.███',
    counts: { email: 1 },
  },

  // Phone.
  {
    name: 'nanp formats',
    input: '(555) 123-4567 / 555.123.4567 / 555-123-4567 / 555 123 4567 / 1-800-555-0199',
    expected: '(███) ███-████ / ███.███.████ / ███-███-████ / ███ ███ ████ / █-███-███-████',
    counts: { phone: 5 },
  },
  {
    name: 'nanp with +1 country code',
    input: 'Call +1 555 123 4567 or +1 (555) 123-4567 or +15551234567.',
    expected: 'Call +█ ███ ███ ████ or +█ (███) ███-████ or +███████████.',
    counts: { phone: 3 },
  },
  {
    name: 'international numbers with a plus',
    input: 'London +44 20 7946 0958, Berlin +49 30 901820, Paris +33 1 23 45 67 89.',
    expected: 'London +██ ██ ████ ████, Berlin +██ ██ ██████, Paris +██ █ ██ ██ ██ ██.',
    counts: { phone: 3 },
  },
  {
    name: 'international with a trunk prefix in parentheses',
    input: 'Tel: +44 (0)20 7946 0958',
    expected: 'Tel: +██ (█)██ ████ ████',
    counts: { phone: 1 },
  },
  {
    name: 'tel uri and full-width colon',
    input: 'tel:+14155552671 电话：+86 10 1234 5678',
    expected: 'tel:+███████████ 电话：+██ ██ ████ ████',
    counts: { phone: 2 },
  },
  {
    name: 'international groups past E.164 length are cut back',
    input: '+44 20 7946 0958 2024',
    expected: '+██ ██ ████ ████ 2024',
    counts: { phone: 1 },
  },
  {
    name: 'not phones: dates, times, timestamps, versions, addresses, ids, amounts',
    input:
      '2024-01-15 10:30:45 2024-01-15T10:30:00+05:30 v1.2.3.4 192.168.100.200 ORD-555-123-4567 ' +
      'INV20240115 1234567890 555-1234 +5 points $1,234,567.89 3.14159265 10.100.200.3000 ' +
      '123e4567-e89b-12d3-a456-426614174000 ISBN 978-3-16-148410-0 +1 2 3',
    expected:
      '2024-01-15 10:30:45 2024-01-15T10:30:00+05:30 v1.2.3.4 192.168.100.200 ORD-555-123-4567 ' +
      'INV20240115 1234567890 555-1234 +5 points $1,234,567.89 3.14159265 10.100.200.3000 ' +
      '123e4567-e89b-12d3-a456-426614174000 ISBN 978-3-16-148410-0 +1 2 3',
    counts: {},
  },
  {
    name: 'a phone number glued into a longer dashed run is not a phone',
    input: '555-123-4567-89',
    expected: '555-123-4567-89',
    counts: {},
  },
  {
    name: 'escaped newline before a phone number in raw text',
    input: String.raw`Call:\n555-123-4567`,
    expected: String.raw`Call:\n███-███-████`,
    counts: { phone: 1 },
  },

  // SSN.
  {
    name: 'ssn with dashes and with spaces',
    input: 'SSN 123-45-6789, old record 078 05 1120.',
    expected: 'SSN ███-██-████, old record ███ ██ ████.',
    counts: { ssn: 2 },
  },
  {
    name: 'ssns in ranges the SSA never issues stay',
    input: '000-12-3456 666-12-3456 900-12-3456 999-99-9999 123-00-4567 123-45-0000',
    expected: '000-12-3456 666-12-3456 900-12-3456 999-99-9999 123-00-4567 123-45-0000',
    counts: {},
  },
  {
    name: 'nine bare digits are not an ssn without a label',
    input: 'Tracking 123456789, zip 941071234',
    expected: 'Tracking 123456789, zip 941071234',
    counts: {},
  },
  {
    name: 'nine bare digits right after an ssn label are an ssn',
    input: 'SSN: 123456789; Social Security Number 234567890; ss# 345678901',
    expected: 'SSN: █████████; Social Security Number █████████; ss# █████████',
    counts: { ssn: 3 },
  },
  {
    name: 'an ssn label does not make an invalid number an ssn',
    input: 'ssn: 000456789',
    expected: 'ssn: 000456789',
    counts: {},
  },

  // Card.
  {
    name: 'cards bare, with spaces and with dashes, several issuers',
    input:
      'Visa 4111111111111111, MC 5555 5555 5555 4444, Amex 3782 822463 10005, Disc 6011-1111-1111-1117',
    expected:
      'Visa ████████████████, MC ████ ████ ████ ████, Amex ████ ██████ █████, Disc ████-████-████-████',
    counts: { card: 4 },
  },
  {
    name: 'thirteen and nineteen digit cards',
    input: '4222222222222 and 4111111111111111110',
    expected: '█████████████ and ███████████████████',
    counts: { card: 2 },
  },
  {
    name: 'a sixteen digit number failing luhn stays',
    input: 'Ref 4111111111111112 and 4111 1111 1111 1112',
    expected: 'Ref 4111111111111112 and 4111 1111 1111 1112',
    counts: {},
  },
  {
    name: 'luhn-valid epoch timestamps (first digit 1) are not cards',
    input: 'ts=1700000000004 us=1731234567809123',
    expected: 'ts=1700000000004 us=1731234567809123',
    counts: {},
  },
  {
    name: 'digit runs longer than 19 are not cards',
    input: 'id 41111111111111111111111',
    expected: 'id 41111111111111111111111',
    counts: {},
  },
  {
    name: 'two cards in a row are both found',
    input: '4111 1111 1111 1111 5500 0000 0000 0004',
    expected: '████ ████ ████ ████ ████ ████ ████ ████',
    counts: { card: 2 },
  },
  {
    name: 'mixed separators are not one card',
    input: '4111 1111-1111 1111',
    expected: '4111 1111-1111 1111',
    counts: {},
  },
  {
    name: 'a card glued to letters is not a card (hex and base64 ids)',
    input: 'tok_4111111111111111 abc4111111111111111',
    expected: 'tok_4111111111111111 abc4111111111111111',
    counts: {},
  },

  // Overlaps between kinds.
  {
    name: 'a spaced card number is counted once, as a card, never also as a phone',
    input: 'pay with 5105 1051 0510 5100 now',
    expected: 'pay with ████ ████ ████ ████ now',
    counts: { card: 1 },
  },
  {
    name: 'phone digits inside an email local part are the email',
    input: 'sms 5551234567@vtext.com',
    expected: 'sms ████@████.███',
    counts: { email: 1 },
  },
  {
    name: 'a custom pattern covering an ssn wins and the ssn is not counted',
    input: 'EMP 123-45-6789',
    profile: custom({ id: 'emp', pattern: String.raw`EMP \d{3}-\d{2}-\d{4}`, mask: 'EMP-ID' }),
    expected: 'EMP-ID',
    counts: { 'custom:emp': 1 },
  },
  {
    name: 'a card partly covered by a custom match still has its remainder masked',
    input: 'ACCT-4111 1111 1111 1111',
    profile: custom({ id: 'acct', pattern: String.raw`ACCT-\d{4}`, mask: 'ACCT-████' }),
    expected: 'ACCT-████ ████ ████ ████',
    counts: { 'custom:acct': 1 },
  },
  {
    name: 'only the kinds in the profile are masked',
    input: 'a@b.io 555-123-4567 123-45-6789 4111111111111111',
    profile: only('phone'),
    expected: 'a@b.io ███-███-████ 123-45-6789 4111111111111111',
    counts: { phone: 1 },
  },

  // Custom patterns.
  {
    name: 'custom pattern with an empty mask masks every non-whitespace character',
    input: 'Patient: John Smith 😀, room 4',
    profile: {
      kinds: [],
      custom: [
        { id: 'name', pattern: String.raw`Patient: \p{Lu}\p{L}+ \p{Lu}\p{L}+ \S+`, mask: '' },
      ],
    },
    expected: '████████ ████ █████ ██ room 4',
    counts: { 'custom:name': 1 },
  },
  {
    name: 'custom pattern counts by id, in profile order',
    input: 'K-1 K-2 Z-9',
    profile: {
      kinds: [],
      custom: [
        { id: 'k', pattern: String.raw`K-\d`, mask: '[k]' },
        { id: 'any', pattern: String.raw`[A-Z]-\d`, mask: '[any]' },
      ],
    },
    expected: '[k] [k] [any]',
    counts: { 'custom:k': 2, 'custom:any': 1 },
  },

  // JSON serialised into text.
  {
    name: 'json text is redacted value by value and written back compact',
    input: '{"tickets":[{"email":"a@b.com","phone":"+1 555 123 4567"}]}',
    expected: '{"tickets":[{"email":"████@████.███","phone":"+█ ███ ███ ████"}]}',
    counts: { email: 1, phone: 1 },
  },
  {
    name: 'json text with a \\u0040 escape is not missed',
    input: String.raw`{"tickets":[{"email":"jane\u0040example.org"}]}`,
    expected: '{"tickets":[{"email":"████@████.███"}]}',
    counts: { email: 1 },
  },
  {
    name: 'pretty json text keeps its indent and outer whitespace',
    input: '\n{\n    "email": "a@b.com",\n    "n": [1, 2]\n}\n',
    expected: '\n{\n    "email": "████@████.███",\n    "n": [\n        1,\n        2\n    ]\n}\n',
    counts: { email: 1 },
  },
  {
    name: 'json text keeps big integers and number spelling exactly',
    input: '{"id":12345678901234567890,"price":1.50,"exp":1e3,"email":"a@b.com"}',
    expected: '{"id":12345678901234567890,"price":1.50,"exp":1e3,"email":"████@████.███"}',
    counts: { email: 1 },
  },
  {
    name: 'json text without pii is returned byte for byte',
    input: '{ "a" : "caf\\u00e9",  "n" : 1.0 }',
    expected: '{ "a" : "caf\\u00e9",  "n" : 1.0 }',
    counts: {},
  },
  {
    name: 'a card number as a json number becomes 0 (the type is kept)',
    input: '{"pan":4111111111111111,"amount":4111,"id":4111111111111112}',
    expected: '{"pan":0,"amount":4111,"id":4111111111111112}',
    counts: { card: 1 },
  },
  {
    name: 'a nineteen digit card as a json number is checked on its exact digits',
    input: '[4111111111111111110]',
    expected: '[0]',
    counts: { card: 1 },
  },
  {
    name: 'an ssn as a json number under an ssn key becomes 0',
    input: '{"ssn":123456789,"zip":123456789}',
    expected: '{"ssn":0,"zip":123456789}',
    counts: { ssn: 1 },
  },
  {
    name: 'a bare ssn string under an ssn key is masked',
    input: '{"customer":{"ssn":"123456789","ref":"123456789"}}',
    expected: '{"customer":{"ssn":"█████████","ref":"123456789"}}',
    counts: { ssn: 1 },
  },
  {
    name: 'json nested inside a json string is redacted too',
    input: JSON.stringify({ content: JSON.stringify({ email: 'a@b.com' }) }),
    expected: JSON.stringify({ content: JSON.stringify({ email: '████@████.███' }) }),
    counts: { email: 1 },
  },
  {
    name: 'object keys are left as they are',
    input: '{"a@b.com":"c@d.com"}',
    expected: '{"a@b.com":"████@████.███"}',
    counts: { email: 1 },
  },
  {
    name: 'text that only starts like json is scanned as text',
    input: '[1] call 555-123-4567',
    expected: '[1] call ███-███-████',
    counts: { phone: 1 },
  },
];
