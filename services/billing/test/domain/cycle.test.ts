import assert from 'node:assert/strict';
import {
  cycleAt,
  cycleContaining,
  cycleStartingOn,
  dayOf,
  formatDay,
  parseDay,
} from '../../src/domain/cycle.js';

const day = (text: string) => {
  const d = parseDay(text);
  assert.ok(d !== undefined, text);
  return d;
};
const show = (c: { start: number; end: number; days: number } | undefined) =>
  c && `${formatDay(c.start)} → ${formatDay(c.end)} (${c.days})`;

describe('billing cycles', () => {
  it('parses real dates only', () => {
    assert.equal(formatDay(day('2028-02-29')), '2028-02-29');
    for (const bad of ['2026-02-29', '2026-13-01', '2026-1-5', '20260105', '', '2026-01-05T00:00'])
      assert.equal(parseDay(bad), undefined, bad);
  });

  it('takes the UTC day of an instant', () => {
    assert.equal(formatDay(dayOf(new Date('2026-01-25T23:59:59.999Z'))), '2026-01-25');
    assert.equal(formatDay(dayOf(new Date('2026-01-26T00:30:00+01:00'))), '2026-01-25');
  });

  const cases = [
    {
      name: "the seeds' cycle: the 15th to the 14th, 31 days",
      anchor: '2026-01-15',
      want: ['2026-01-15 → 2026-02-14 (31)', '2026-02-15 → 2026-03-14 (28)'],
    },
    {
      name: 'a leap-year February cycle has 29 days',
      anchor: '2028-01-15',
      want: ['2028-01-15 → 2028-02-14 (31)', '2028-02-15 → 2028-03-14 (29)'],
    },
    {
      name: 'anchored on the 31st: the month’s last day when shorter, ending the day before',
      anchor: '2026-01-31',
      want: [
        '2026-01-31 → 2026-02-27 (28)',
        '2026-02-28 → 2026-03-30 (31)',
        '2026-03-31 → 2026-04-29 (30)',
        '2026-04-30 → 2026-05-30 (31)',
        '2026-05-31 → 2026-06-29 (30)',
      ],
    },
    {
      name: 'anchored on the 31st in a leap year',
      anchor: '2028-01-31',
      want: ['2028-01-31 → 2028-02-28 (29)', '2028-02-29 → 2028-03-30 (31)'],
    },
    {
      name: 'across a year end',
      anchor: '2025-12-31',
      want: ['2025-12-31 → 2026-01-30 (31)', '2026-01-31 → 2026-02-27 (28)'],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const anchor = day(c.anchor);
      assert.deepEqual(
        c.want.map((_, k) => show(cycleAt(anchor, k))),
        c.want,
      );
    });

  it('finds the cycle containing a day, and none before the sign-up day', () => {
    const anchor = day('2026-01-31');
    assert.equal(show(cycleContaining(anchor, day('2026-02-27'))), '2026-01-31 → 2026-02-27 (28)');
    assert.equal(show(cycleContaining(anchor, day('2026-02-28'))), '2026-02-28 → 2026-03-30 (31)');
    assert.equal(show(cycleContaining(anchor, day('2026-03-30'))), '2026-02-28 → 2026-03-30 (31)');
    assert.equal(show(cycleContaining(anchor, day('2027-01-01'))), '2026-12-31 → 2027-01-30 (31)');
    assert.equal(cycleContaining(anchor, day('2026-01-30')), undefined);
  });

  it('knows which days start a cycle', () => {
    const anchor = day('2026-01-15');
    assert.equal(show(cycleStartingOn(anchor, day('2026-03-15'))), '2026-03-15 → 2026-04-14 (31)');
    assert.equal(cycleStartingOn(anchor, day('2026-03-16')), undefined);
    assert.equal(cycleStartingOn(anchor, day('2025-12-15')), undefined);
  });
});
