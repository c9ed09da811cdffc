import assert from 'node:assert/strict';
import { allocate, divRoundHalfUp, formatUsd, proRata } from '../../src/domain/money.js';

describe('money', () => {
  it('rounds half-up in integers', () => {
    const cases = [
      { name: 'below half', n: 14, d: 10, want: 1 },
      { name: 'exactly half', n: 15, d: 10, want: 2 },
      { name: 'above half', n: 16, d: 10, want: 2 },
      { name: 'half of a negative rounds away from zero', n: -15, d: 10, want: -2 },
      { name: 'zero', n: 0, d: 31, want: 0 },
    ];
    for (const c of cases) assert.equal(divRoundHalfUp(c.n, c.d), c.want, c.name);
  });

  it("charges the seeds' pro-rata examples to the cent", () => {
    assert.equal(proRata(500, 5, 21, 31), 1694);
    assert.equal(proRata(500, 3, 14, 31), 677);
    assert.equal(proRata(800, 60, 31, 31), 48_000);
  });

  it('refuses fractional cents and a zero denominator', () => {
    assert.throws(() => divRoundHalfUp(1.5, 2), RangeError);
    assert.throws(() => divRoundHalfUp(1, 0), RangeError);
  });

  it('splits a total into shares that add up, the first users taking the odd cents', () => {
    assert.deepEqual(allocate(1694, 5), [339, 339, 339, 339, 338]);
    assert.deepEqual(allocate(-90, 4), [-23, -23, -22, -22]);
    assert.deepEqual(allocate(0, 2), [0, 0]);
    assert.deepEqual(allocate(5, 0), []);
  });

  it('formats dollars', () => {
    assert.equal(formatUsd(50_371), '$503.71');
    assert.equal(formatUsd(-90), '-$0.90');
    assert.equal(formatUsd(123_456_7), '$12,345.67');
  });
});
