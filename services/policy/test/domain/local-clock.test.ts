import assert from 'node:assert/strict';
import { isKnownTimeZone, localClock } from '../../src/domain/local-clock.js';

const hm = (h: number, m: number) => h * 60 + m;

describe('localClock', () => {
  const cases = [
    // America/New_York, 2026-03-08 (Sunday): 02:00 EST becomes 03:00 EDT.
    {
      name: 'New York a second before spring forward',
      zone: 'America/New_York',
      at: '2026-03-08T06:59:59Z',
      day: 7,
      minute: hm(1, 59),
    },
    {
      name: 'New York at spring forward',
      zone: 'America/New_York',
      at: '2026-03-08T07:00:00Z',
      day: 7,
      minute: hm(3, 0),
    },
    {
      name: 'New York on the Monday after spring forward (UTC-4)',
      zone: 'America/New_York',
      at: '2026-03-09T13:00:00Z',
      day: 1,
      minute: hm(9, 0),
    },
    // 2026-11-01 (Sunday): 02:00 EDT becomes 01:00 EST; 01:xx happens twice.
    {
      name: 'New York a second before fall back',
      zone: 'America/New_York',
      at: '2026-11-01T05:59:59Z',
      day: 7,
      minute: hm(1, 59),
    },
    {
      name: 'New York at fall back (01:00 again)',
      zone: 'America/New_York',
      at: '2026-11-01T06:00:00Z',
      day: 7,
      minute: hm(1, 0),
    },
    {
      name: 'New York on the Monday after fall back (UTC-5)',
      zone: 'America/New_York',
      at: '2026-11-02T14:00:00Z',
      day: 1,
      minute: hm(9, 0),
    },
    // Europe/Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST; 2026-10-25: 03:00 CEST becomes 02:00 CET.
    {
      name: 'Berlin a second before spring forward',
      zone: 'Europe/Berlin',
      at: '2026-03-29T00:59:59Z',
      day: 7,
      minute: hm(1, 59),
    },
    {
      name: 'Berlin at spring forward',
      zone: 'Europe/Berlin',
      at: '2026-03-29T01:00:00Z',
      day: 7,
      minute: hm(3, 0),
    },
    {
      name: 'Berlin a second before fall back',
      zone: 'Europe/Berlin',
      at: '2026-10-25T00:59:59Z',
      day: 7,
      minute: hm(2, 59),
    },
    {
      name: 'Berlin at fall back (02:00 again)',
      zone: 'Europe/Berlin',
      at: '2026-10-25T01:00:00Z',
      day: 7,
      minute: hm(2, 0),
    },
    // Local midnight is minute 0 of the new day, never minute 1440 of the old one.
    {
      name: 'Berlin at local midnight, a day ahead of UTC',
      zone: 'Europe/Berlin',
      at: '2026-01-04T23:00:00Z',
      day: 1,
      minute: 0,
    },
    {
      name: 'UTC at midnight on a Monday',
      zone: 'Etc/UTC',
      at: '2026-01-05T00:00:00Z',
      day: 1,
      minute: 0,
    },
    {
      name: 'UTC a minute before midnight on a Sunday',
      zone: 'Etc/UTC',
      at: '2026-01-04T23:59:30Z',
      day: 7,
      minute: hm(23, 59),
    },
    {
      name: 'Kathmandu (+05:45) at 09:00',
      zone: 'Asia/Kathmandu',
      at: '2026-01-05T03:15:00Z',
      day: 1,
      minute: hm(9, 0),
    },
    {
      name: 'Kathmandu a day ahead of UTC',
      zone: 'Asia/Kathmandu',
      at: '2026-01-04T18:15:00Z',
      day: 1,
      minute: 0,
    },
    {
      name: 'Honolulu (-10:00) a day behind UTC',
      zone: 'Pacific/Honolulu',
      at: '2026-01-05T05:00:00Z',
      day: 7,
      minute: hm(19, 0),
    },
  ];

  for (const c of cases) {
    it(`reads the wall clock right: ${c.name}`, () => {
      const clock = localClock(c.zone, new Date(c.at));
      assert.deepEqual(clock, {
        day: c.day,
        prevDay: c.day === 1 ? 7 : c.day - 1,
        minute: c.minute,
      });
    });
  }

  it('gives Sunday as the day before Monday and Saturday as the day before Sunday', () => {
    assert.equal(localClock('Etc/UTC', new Date('2026-01-05T12:00:00Z')).prevDay, 7);
    assert.equal(localClock('Etc/UTC', new Date('2026-01-04T12:00:00Z')).prevDay, 6);
  });
});

describe('isKnownTimeZone', () => {
  const cases = [
    { name: 'an IANA zone', zone: 'America/New_York', known: true },
    { name: 'a zone with a half-hour DST', zone: 'Australia/Lord_Howe', known: true },
    { name: 'an unknown zone', zone: 'Mars/Olympus_Mons', known: false },
    { name: 'an empty name', zone: '', known: false },
    { name: 'garbage', zone: '"; drop', known: false },
  ];
  for (const c of cases) {
    it(`answers ${String(c.known)} for ${c.name}`, () =>
      assert.equal(isKnownTimeZone(c.zone), c.known));
  }
});
