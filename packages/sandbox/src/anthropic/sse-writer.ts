import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { SseEvent } from './message-events.js';

/** Formats one server-sent event the way the real API frames them. */
export function formatSse(event: SseEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/**
 * Writes events one at a time, each in its own write and turn of the event loop (or after
 * `chunkDelayMs`), so clients see a real stream rather than one buffered body. Honours
 * backpressure and stops quietly when the client goes away or `signal` aborts.
 */
export async function writeSse(
  res: ServerResponse,
  events: Iterable<SseEvent>,
  chunkDelayMs: number,
  signal: AbortSignal,
): Promise<void> {
  const gone = new AbortController();
  const onClose = (): void => gone.abort();
  res.once('close', onClose);
  const stop = AbortSignal.any([signal, gone.signal]);
  try {
    let first = true;
    for (const event of events) {
      if (!first) {
        if (chunkDelayMs > 0) await sleep(chunkDelayMs, undefined, { signal: stop });
        else await nextTurn(undefined, { signal: stop });
      }
      first = false;
      if (stop.aborted) return;
      if (!res.write(formatSse(event))) await once(res, 'drain', { signal: stop });
    }
    res.end();
  } catch (err: unknown) {
    if (!stop.aborted) throw err;
    // The client left or the server is closing: drop the connection without a clean end.
    res.destroy();
  } finally {
    res.off('close', onClose);
  }
}
