import { fromBinary } from '@bufbuild/protobuf';
import { EventEnvelopeSchema, type EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type { Logger } from '@fortress/kit/log';
import type { OutboxStore } from '../adapters/pg/outbox-store.js';
import type { SweepStore } from '../adapters/pg/sweep-store.js';
import type { WorkField } from '../adapters/pg/work-sql.js';
import type { WorkRow, WorkStore } from '../adapters/pg/work-store.js';
import { notificationEvent, SYSTEM_ACTOR } from '../domain/events.js';
import type { KeyRotation } from '../domain/key-rotation.js';
import type { CredentialMeta } from '../domain/records.js';
import type { RewrapJob } from './rewrap-job.js';

/** What the background worker drives. */
export interface WorkerDeps {
  work: WorkStore;
  outbox: OutboxStore;
  sweeps: SweepStore;
  rotation: KeyRotation;
  rewrap: RewrapJob;
  /** Publishes one event and resolves on the stream's ack. */
  publish: (envelope: EventEnvelope) => Promise<void>;
  logger: Logger;
  /** This replica's name in leases. */
  owner: string;
  intervalMs: number;
  leaseMs: number;
  /** How long a Zero Trust re-wrap waits for a session before looking again. */
  sessionWaitMs: number;
}

/** The `credential.expiring` notification of a credential version (metadata only). */
function expiring(c: CredentialMeta): EventEnvelope {
  return notificationEvent(c.org_id, 'credential.expiring', {
    credential_id: c.id,
    version: c.version,
    label: c.label,
    kind: c.kind,
    last_four: c.last_four,
    expires_at: c.expires_at?.toISOString() ?? null,
  });
}

/**
 * The vault's background work, per org: scheduled data key rotation, the re-wrap job, the
 * sweep (expiry notices, retired versions) and the outbox relay to JetStream. Each org is
 * leased to one replica at a time; every step is idempotent, so a crash or a lost lease only
 * means the next holder does it again.
 */
export function createWorker(deps: WorkerDeps) {
  const { work, logger } = deps;
  const due = (d: Date | null) => d !== null && d.getTime() <= Date.now();
  const later = (ms: number) => new Date(Date.now() + ms);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const kicks = new Set<Promise<void>>();
  let stopped = false;

  const step = async <T>(what: string, orgId: string, fn: () => Promise<T>) => {
    try {
      return { ok: true as const, value: await fn() };
    } catch (err) {
      logger.warn({ err, orgId, step: what }, 'background step failed; will retry');
      return { ok: false as const };
    }
  };

  const processOrg = async (row: WorkRow): Promise<void> => {
    const org = row.org_id;
    const next: Partial<Record<WorkField, Date | null>> = {};
    let rewrapDue = due(row.rewrap_due_at);
    if (due(row.rotation_due_at)) {
      const r = await step('rotation', org, () => deps.rotation.rotate(org, SYSTEM_ACTOR));
      if (r.ok) rewrapDue = true;
      else next.rotation_due_at = later(deps.intervalMs * 6);
    }
    if (rewrapDue) {
      const r = await step('rewrap', org, () => deps.rewrap.run(org, deps.leaseMs / 2));
      if (!r.ok) next.rewrap_due_at = later(deps.intervalMs);
      else if (r.value.state === 'awaiting_session') next.rewrap_due_at = later(deps.sessionWaitMs);
      else next.rewrap_due_at = r.value.state === 'more' ? new Date() : null;
    }
    if (due(row.sweep_due_at)) {
      const r = await step('sweep', org, () => deps.sweeps.sweep(org, expiring));
      next.sweep_due_at = r.ok ? r.value.nextDueAt : later(deps.intervalMs);
    }
    const relayed = await step('outbox', org, async () => {
      while (
        (await deps.outbox.drain(org, 100, (b) =>
          deps.publish(fromBinary(EventEnvelopeSchema, b)),
        )) > 0
      );
    });
    next.outbox_due_at = relayed.ok ? null : later(deps.intervalMs);
    await work.release(deps.owner, row, next);
  };

  const tick = async (): Promise<number> => {
    const rows = await work.claimDue(deps.owner, deps.leaseMs, 8);
    for (const row of rows) await processOrg(row);
    return rows.length;
  };

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((err: unknown) => logger.warn({ err }, 'background tick failed'))
      .finally(() => {
        if (!stopped) {
          timer = setTimeout(loop, deps.intervalMs);
          timer.unref();
        }
      });
  };

  return {
    /** Processes every org with work due now (once); how many orgs it processed. */
    tick,

    /** Works on one org now, if it has work due and no other replica holds it. */
    kick(orgId: string): Promise<void> {
      if (stopped) return Promise.resolve();
      const done = (async () => {
        try {
          const row = await work.claimOrg(deps.owner, orgId, deps.leaseMs);
          if (row) await processOrg(row);
        } catch (err) {
          logger.warn({ err, orgId }, 'background work on demand failed; the schedule will retry');
        }
      })();
      kicks.add(done);
      void done.finally(() => kicks.delete(done));
      return done;
    },

    start(): void {
      stopped = false;
      loop();
    },

    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([running, ...kicks]);
    },
  };
}

/** The background worker. */
export type Worker = ReturnType<typeof createWorker>;
