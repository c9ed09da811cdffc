import assert from 'node:assert/strict';
import { createVerifySlots } from '../../src/verify/verify-slots.js';

/** A promise and the function that resolves it (lib ES2023 has no Promise.withResolvers). */
function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => undefined as void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('verify slots', () => {
  it('runs at most N at once and lets the others take their turn in order', async () => {
    const withSlot = createVerifySlots(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, gate);
    const runs = gates.map((g, i) =>
      withSlot(new AbortController().signal, async () => {
        running += 1;
        peak = Math.max(peak, running);
        order.push(i);
        await g.promise;
        running -= 1;
        return i;
      }),
    );
    for (const g of gates) {
      await new Promise((r) => setImmediate(r));
      g.resolve();
    }
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4]);
    assert.deepEqual([peak, order], [2, [0, 1, 2, 3, 4]]);
  });

  it("gives up waiting when the caller's deadline passes, and frees nothing it never took", async () => {
    const withSlot = createVerifySlots(1);
    const hold = gate();
    const first = withSlot(new AbortController().signal, () => hold.promise);
    const impatient = new AbortController();
    const waiting = withSlot(impatient.signal, () => Promise.resolve('ran'));
    impatient.abort(new Error('deadline'));
    await assert.rejects(waiting, /deadline/);
    hold.resolve();
    await first;
    assert.equal(
      await withSlot(new AbortController().signal, () => Promise.resolve('next')),
      'next',
    );
  });
});
