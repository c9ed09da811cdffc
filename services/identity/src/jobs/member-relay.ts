import type { Logger } from '@fortress/kit/log';
import type { MemberStore } from '../adapters/pg/member-store.js';

/** What the relay needs. */
export interface MemberRelayOptions {
  store: Pick<MemberStore, 'drainOutbox' | 'outboxOrgs'>;
  /** Publishes one envelope and resolves on JetStream's acknowledgement. */
  publish: (envelope: Uint8Array) => Promise<void>;
  /** How often every org's outbox is swept (what a crash or a NATS outage left behind). */
  intervalMs: number;
  logger: Logger;
}

/** Events published per transaction. */
const BATCH = 100;
/** Orgs swept per tick. */
const SWEEP_ORGS = 100;

/**
 * Carries member change events from identity's outbox to JetStream: at once after a change
 * (`nudge`), and on a timer for whatever a failed publish or a crash left waiting. At most one
 * drain per org runs in this process; the store keeps replicas from draining one org at once.
 */
export function createMemberRelay(o: MemberRelayOptions) {
  const running = new Map<string, Promise<void>>();
  /** Orgs that had a new event while their drain ran: it goes round once more. */
  const again = new Set<string>();

  const drain = (orgId: string): Promise<void> => {
    const current = running.get(orgId);
    if (current) {
      again.add(orgId);
      return current;
    }
    const p = (async () => {
      do {
        again.delete(orgId);
        while ((await o.store.drainOutbox(orgId, BATCH, o.publish)) === BATCH);
      } while (again.has(orgId));
    })()
      .catch((err: unknown) =>
        o.logger.warn({ err, orgId }, 'member events not published; will retry'),
      )
      .finally(() => running.delete(orgId));
    running.set(orgId, p);
    return p;
  };

  const sweep = async () => {
    try {
      await Promise.all((await o.store.outboxOrgs(SWEEP_ORGS)).map(drain));
    } catch (err) {
      o.logger.warn({ err }, 'could not list orgs with member events waiting');
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;
  return {
    /** An org has a new event: publish it now. */
    nudge(orgId: string): void {
      void drain(orgId);
    },
    /** Publishes everything waiting now (tests, and the first sweep at start). */
    async sweep(): Promise<void> {
      await (sweeping ??= sweep().finally(() => (sweeping = undefined)));
    },
    start(): void {
      timer ??= setInterval(() => void this.sweep(), o.intervalMs);
      timer.unref();
      void this.sweep();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await Promise.all([sweeping, ...running.values()]);
    },
  };
}

/** The member relay. */
export type MemberRelay = ReturnType<typeof createMemberRelay>;
