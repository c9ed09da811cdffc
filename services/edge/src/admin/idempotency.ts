import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';

/** A response kept for replay under an Idempotency-Key. */
export interface StoredResponse {
  status: number;
  contentType: string;
  /** The body as sent (admin responses never carry a secret that is shown once). */
  body: string;
}

/** What the store says about a key when a mutation arrives with it. */
export type Claim =
  | { kind: 'claimed'; complete(r: StoredResponse): Promise<void>; release(): Promise<void> }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'in_flight' }
  | { kind: 'mismatch' };

interface Entry {
  /** Hash of method, path and body: a key reused for another request is refused. */
  fingerprint: string;
  /** When the running request claimed the key (ms since the epoch). */
  claimedAt: number;
  response?: StoredResponse;
}

/** A claim older than this whose request never completed was abandoned (its edge died). */
export const ABANDONED_AFTER_MS = 60_000;

/** How long a key is remembered (the IETF draft suggests at least a day). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** A well-formed Idempotency-Key value: 1–255 visible ASCII characters. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Idempotency keys for admin mutations, shared by every edge replica through a JetStream
 * key-value bucket. The first request with a key claims it atomically (KV create), runs, and
 * stores its response; a retry with the same key and the same request gets that response
 * again without running; the same key with a different request is refused; a retry that
 * arrives while the first is still running is told so. A failure that changed nothing (5xx)
 * releases the key, so the client's retry runs for real. Keys are scoped to org and admin.
 */
export async function openIdempotencyStore(nc: NatsConnection, ttlMs = IDEMPOTENCY_TTL_MS) {
  const kv: KV = await new Kvm(nc).create('fortress_admin_idempotency', {
    ttl: ttlMs,
    history: 1,
  });

  return {
    async claim(
      scope: { orgId: string; subjectId: string; key: string },
      request: { method: string; path: string; body: string },
    ): Promise<Claim> {
      const id = sha256(`${scope.orgId}\n${scope.subjectId}\n${scope.key}`);
      const fingerprint = sha256(`${request.method}\n${request.path}\n${request.body}`);
      const claimedBy = (revision: number): Claim => ({
        kind: 'claimed',
        complete: async (response) => {
          const done: Entry = { fingerprint, claimedAt: Date.now(), response };
          await kv.update(id, JSON.stringify(done), revision);
        },
        release: async () => {
          await kv.delete(id, { previousSeq: revision });
        },
      });
      const fresh = () => JSON.stringify({ fingerprint, claimedAt: Date.now() } satisfies Entry);
      try {
        return claimedBy(await kv.create(id, fresh()));
      } catch (err) {
        const existing = await kv.get(id);
        if (!existing || existing.operation !== 'PUT') throw err;
        const entry = existing.json<Entry>();
        if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
        if (entry.response) return { kind: 'replay', response: entry.response };
        if (Date.now() - entry.claimedAt < ABANDONED_AFTER_MS) return { kind: 'in_flight' };
        // Take the abandoned claim over; only one retry can win the compare-and-set.
        return claimedBy(await kv.update(id, fresh(), existing.revision));
      }
    },
  };
}

/** The idempotency store. */
export type IdempotencyStore = Awaited<ReturnType<typeof openIdempotencyStore>>;
