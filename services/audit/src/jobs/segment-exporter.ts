import type { Logger } from '@fortress/kit/log';
import type { ExportSegmentRepo, SegmentRow } from '../adapters/pg/export-segment-repo.js';
import type { SegmentStore } from '../adapters/s3/segment-store.js';
import {
  segmentObject,
  SegmentIncompleteError,
  type SegmentSpan,
} from '../domain/export-segment.js';
import { toRecord } from '../rpc/audit-record.js';

/** What the exporter needs. */
export interface SegmentExporterOptions {
  repo: ExportSegmentRepo;
  store: Pick<SegmentStore, 'put'>;
  /** Why a write failed, as a class (stored and shown; never the error's text). */
  classify: (error: unknown) => string;
  /** How often owed segments are looked for (retries after a failure, other replicas' work). */
  intervalMs: number;
  /** Longest wait for one segment's write. */
  timeoutMs: number;
  /** Orgs worked on at once per tick. */
  concurrency?: number;
  logger: Logger;
  onSegment?: (outcome: 'written' | 'failed', segment: SegmentSpan) => void;
}

/**
 * Writes the segments that checkpoints queued to the object store, oldest first per org.
 * `nudge(org)` after a checkpoint writes its span at once; a timer retries whatever is still
 * owed (the object store was down, a replica died mid-write). An org stops at its first
 * failure until the next tick, so an outage costs one attempt per org per interval. Rewriting
 * a segment (a write that succeeded but was not recorded) puts the same bytes again.
 */
export function createSegmentExporter(o: SegmentExporterOptions) {
  const running = new Map<string, Promise<void>>();
  /** Orgs nudged while their drain was running: it looks once more before it ends. */
  const again = new Set<string>();
  const classify = (error: unknown) =>
    error instanceof SegmentIncompleteError ? 'records_missing' : o.classify(error);

  const write = (segment: SegmentSpan, rows: SegmentRow[]) => {
    const last = rows.at(-1);
    const object = segmentObject(segment, rows.map(toRecord), last?.hash ?? Buffer.alloc(0));
    return o.store.put(object, AbortSignal.timeout(o.timeoutMs));
  };

  /** Writes the org's segments until none is left (true) or one fails (false). */
  const drainOnce = async (orgId: string): Promise<boolean> => {
    for (;;) {
      const attempt = await o.repo.exportNext(orgId, write, classify);
      if (!attempt) return true;
      o.onSegment?.(attempt.outcome, attempt.segment);
      if (attempt.outcome === 'failed') {
        const { firstSeq, lastSeq } = attempt.segment;
        o.logger.warn(
          { err: attempt.error, orgId, firstSeq: String(firstSeq), lastSeq: String(lastSeq) },
          'export segment not written; will retry',
        );
        return false;
      }
    }
  };

  const drain = async (orgId: string) => {
    do {
      again.delete(orgId);
      if (!(await drainOnce(orgId))) return;
    } while (again.has(orgId));
  };

  const run = (orgId: string): Promise<void> => {
    const current = running.get(orgId);
    if (current) {
      again.add(orgId);
      return current;
    }
    const p = drain(orgId)
      .catch((err: unknown) => o.logger.warn({ err, orgId }, 'export failed; will retry'))
      .finally(() => running.delete(orgId));
    running.set(orgId, p);
    return p;
  };

  const tick = async () => {
    try {
      const orgs = await o.repo.pendingOrgs(1000);
      const width = Math.max(1, o.concurrency ?? 4);
      for (let i = 0; i < orgs.length; i += width)
        await Promise.all(orgs.slice(i, i + width).map(run));
    } catch (err) {
      o.logger.warn({ err }, 'could not list orgs owing export segments');
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  const tickOnce = () => (ticking ??= tick().finally(() => (ticking = undefined)));

  return {
    /** Writes what the org owes now (after a checkpoint queued its span). */
    nudge(orgId: string): void {
      void run(orgId);
    },
    /** Writes what every org owes (also what the timer does). */
    tick: tickOnce,
    /** Writes what one org owes, and resolves when it is done or failed (tests, operators). */
    run,
    /** Starts the timer. */
    start(): void {
      timer = setInterval(() => void tickOnce(), o.intervalMs);
      timer.unref();
    },
    /** Stops the timer and waits for writes in flight. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      await ticking;
      await Promise.all(running.values());
    },
  };
}

/** The segment exporter. */
export type SegmentExporter = ReturnType<typeof createSegmentExporter>;
