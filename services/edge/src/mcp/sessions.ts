import { createHash, randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';

/** A 2025-era MCP session: who opened it and what it negotiated. */
export interface McpSession {
  orgId: string;
  /** The authenticated subject that opened it; no one else may use it. */
  subjectId: string;
  apiKeyId: string;
  protocolVersion: string;
  createdAt: number;
  /** Last time the session was seen (refreshed at most every REFRESH_MS). */
  seenAt: number;
}

/** An idle session expires after this long (the bucket's TTL). */
export const SESSION_IDLE_MS = 24 * 60 * 60 * 1000;
/** How often use of a session is written back (keeps it alive without a write per call). */
const REFRESH_MS = 10 * 60 * 1000;

const keyOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('hex');

/** A session id: 256 random bits, visible ASCII as the transport requires. */
export const newSessionId = () => randomBytes(32).toString('base64url');

/** A session id as the client may present it (visible ASCII, bounded). */
export const SESSION_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

/**
 * 2025-era MCP sessions, shared by every edge replica through a JetStream key-value bucket, so
 * a client's next request may land on any replica. A session id names a session; it never
 * authenticates: every request is authenticated on its own, and a session is only found for
 * the subject that opened it (for anyone else it does not exist). Stored under the hash of the
 * id, so the bucket holds nothing a client could present.
 */
export async function openSessionStore(nc: NatsConnection, idleMs = SESSION_IDLE_MS) {
  const kv: KV = await new Kvm(nc).create('fortress_mcp_sessions', { ttl: idleMs, history: 1 });

  return {
    /** Opens a session and returns its id. */
    async open(s: Omit<McpSession, 'createdAt' | 'seenAt'>): Promise<string> {
      const id = newSessionId();
      const now = Date.now();
      await kv.create(keyOf(id), JSON.stringify({ ...s, createdAt: now, seenAt: now }));
      return id;
    },

    /** The session, if it exists and belongs to this subject of this org. */
    async find(
      sessionId: string,
      who: { orgId: string; subjectId: string },
    ): Promise<McpSession | undefined> {
      if (!SESSION_ID_PATTERN.test(sessionId)) return undefined;
      const entry = await kv.get(keyOf(sessionId));
      if (!entry || entry.operation !== 'PUT') return undefined;
      const s = entry.json<McpSession>();
      if (s.orgId !== who.orgId || s.subjectId !== who.subjectId) return undefined;
      if (Date.now() - s.seenAt > REFRESH_MS) {
        // Keeps it alive; a lost race with another replica's refresh is harmless.
        await kv
          .update(keyOf(sessionId), JSON.stringify({ ...s, seenAt: Date.now() }), entry.revision)
          .catch(() => undefined);
      }
      return s;
    },

    /** Ends a session (DELETE); false when there was none for this subject. */
    async close(sessionId: string, who: { orgId: string; subjectId: string }): Promise<boolean> {
      if (!(await this.find(sessionId, who))) return false;
      await kv.delete(keyOf(sessionId));
      return true;
    },
  };
}

/** The session store. */
export type SessionStore = Awaited<ReturnType<typeof openSessionStore>>;
