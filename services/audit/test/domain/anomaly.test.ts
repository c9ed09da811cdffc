import assert from 'node:assert/strict';
import { ANOMALY_DEFAULTS } from '../../src/domain/alert-settings.js';
import {
  baseline,
  detect,
  HISTORY_HOURS,
  hourOf,
  type HourCounts,
} from '../../src/domain/anomaly.js';

const HOUR = new Date('2026-11-22T14:00:00Z');

/** 168 hours of `requests` (and `denies`) each: a user busy every hour of the week. */
const steady = (requests: (h: number) => number, denies: (h: number) => number = () => 0) =>
  Array.from({ length: HISTORY_HOURS }, (_, h): HourCounts => ({
    requests: requests(h),
    denies: denies(h),
  }));

describe('anomaly baseline', () => {
  it('counts hours without a decision as zero', () => {
    assert.deepEqual(baseline([], 168), { mean: 0, stddev: 0 });
    assert.deepEqual(baseline([168], 168), { mean: 1, stddev: Math.sqrt((167 ** 2 + 167) / 168) });
    const b = baseline([2, 4, 4, 4, 5, 5, 7, 9], 8);
    assert.deepEqual(b, { mean: 5, stddev: 2 });
  });

  it('puts an instant into its UTC hour', () => {
    assert.equal(hourOf(new Date('2026-11-22T14:59:59.999Z')).toISOString(), HOUR.toISOString());
  });
});

describe('anomaly detection', () => {
  const cases: Array<{
    name: string;
    now: HourCounts;
    history: HourCounts[];
    flagged: string[];
  }> = [
    {
      name: 'a burst far above a steady user’s own history',
      now: { requests: 240, denies: 0 },
      history: steady((h) => 10 + (h % 5)),
      flagged: ['requests'],
    },
    {
      name: 'a steady user at the top of their usual range',
      now: { requests: 14, denies: 0 },
      history: steady((h) => 10 + (h % 5)),
      flagged: [],
    },
    {
      name: 'a first-time user’s small burst, below the floor',
      now: { requests: 5, denies: 0 },
      history: [],
      flagged: [],
    },
    {
      name: 'a first-time user’s burst at the floor',
      now: { requests: 50, denies: 0 },
      history: [],
      flagged: ['requests'],
    },
    {
      name: 'a busy user whose hour is high but within mean + 4σ',
      now: { requests: 300, denies: 0 },
      history: steady((h) => (h % 2 ? 200 : 20)),
      flagged: [],
    },
    {
      name: 'a burst of denies by a user who is never denied, with few requests',
      now: { requests: 40, denies: 30 },
      history: steady(() => 12),
      flagged: ['denies'],
    },
    {
      name: 'denies below their floor',
      now: { requests: 20, denies: 19 },
      history: steady(() => 12),
      flagged: [],
    },
    {
      name: 'requests and denies both far above',
      now: { requests: 500, denies: 400 },
      history: steady(
        () => 12,
        (h) => h % 2,
      ),
      flagged: ['requests', 'denies'],
    },
  ];
  for (const c of cases)
    it(`flags [${c.flagged.join(', ')}] for ${c.name}`, () => {
      const f = detect('usr_x', HOUR, c.now, c.history, ANOMALY_DEFAULTS);
      assert.deepEqual(f?.signals.map((s) => s.metric) ?? [], c.flagged);
    });

  it('says why in words: the count, the user’s mean and σ, and the threshold', () => {
    const f = detect(
      'usr_x',
      HOUR,
      { requests: 240, denies: 0 },
      steady((h) => 9 + (h % 7)),
      ANOMALY_DEFAULTS,
    );
    assert.equal(
      f?.explanation,
      'usr_x made 240 requests in the hour from 2026-11-22 14:00 UTC; their hourly mean is 12 ' +
        '(σ 2) over the previous 7 days, and more than 20 (mean + 4σ) and at least 50 requests ' +
        'in an hour is flagged.',
    );
  });

  it('follows an org’s own multiplier and floors', () => {
    const p = { disabled: false, k: 10, minRequests: 5, minDenies: 1 };
    assert.equal(detect('u', HOUR, { requests: 5, denies: 0 }, [], p)?.signals.length, 1);
    const history = steady((h) => 9 + (h % 7));
    assert.equal(detect('u', HOUR, { requests: 32, denies: 0 }, history, p), undefined);
    assert.equal(detect('u', HOUR, { requests: 33, denies: 0 }, history, p)?.signals.length, 1);
  });
});
