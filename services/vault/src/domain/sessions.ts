import { randomBytes } from 'node:crypto';
import type { EpochRow } from './records.js';

/** Why a Zero Trust session cannot serve; stable, safe to show. */
export type SessionRefusal =
  'session_required' | 'session_not_found' | 'session_expired' | 'session_wrong_principal';

/** Who a session was opened for. */
export interface SessionOwner {
  orgId: string;
  subjectId: string;
  deviceId: string;
}

interface Session extends SessionOwner {
  id: string;
  expiresAt: number;
  /** Private keys by epoch; owned here, zeroed on close. */
  keys: Map<number, Buffer>;
  timer: NodeJS.Timeout;
}

/** What the registry needs to fetch an org's Zero Trust private keys. */
export interface SessionDeps {
  epochs: (orgId: string) => Promise<EpochRow[]>;
  unwrapPrivate: (epoch: EpochRow, signal?: AbortSignal) => Promise<Buffer>;
  maxTtlMs: number;
  maxSessions: number;
  now?: () => number;
}

/**
 * Zero Trust sessions. Opening one fetches the org's private keys from the customer's KMS (the
 * caller has already proven identity and device checks); they live in this process's memory
 * for the session only, are used synchronously, and are overwritten with zeros when the
 * session is closed, expires, or its org is shredded. Sessions are local to one replica.
 */
export function createSessionRegistry(deps: SessionDeps) {
  const now = deps.now ?? Date.now;
  const sessions = new Map<string, Session>();

  const close = (s: Session) => {
    clearTimeout(s.timer);
    for (const key of s.keys.values()) key.fill(0);
    s.keys.clear();
    sessions.delete(s.id);
  };

  /** The live session of this id for this org and subject, or why not. */
  const live = (
    id: string,
    orgId: string,
    subjectId: string,
  ): { ok: true; session: Session } | { ok: false; refusal: SessionRefusal } => {
    if (!id) return { ok: false, refusal: 'session_required' };
    const s = sessions.get(id);
    if (!s) return { ok: false, refusal: 'session_not_found' };
    if (now() >= s.expiresAt) {
      close(s);
      return { ok: false, refusal: 'session_expired' };
    }
    if (s.orgId !== orgId || s.subjectId !== subjectId)
      return { ok: false, refusal: 'session_wrong_principal' };
    return { ok: true, session: s };
  };

  return {
    /** Opens a session: fetches every Zero Trust key of the org, all or nothing. */
    async open(
      owner: SessionOwner,
      ttlMs: number,
      signal?: AbortSignal,
    ): Promise<{ id: string; expiresAt: Date } | undefined> {
      if (sessions.size >= deps.maxSessions) return undefined;
      const keys = new Map<number, Buffer>();
      try {
        for (const e of await deps.epochs(owner.orgId)) {
          if (e.scheme === 'p256') keys.set(e.epoch, await deps.unwrapPrivate(e, signal));
        }
      } catch (err) {
        for (const key of keys.values()) key.fill(0);
        throw err;
      }
      const id = `ses_${randomBytes(16).toString('hex')}`;
      const lifetime = Math.min(ttlMs, deps.maxTtlMs);
      const expiresAt = now() + lifetime;
      const timer = setTimeout(() => {
        const s = sessions.get(id);
        if (s) close(s);
      }, lifetime);
      timer.unref();
      sessions.set(id, { ...owner, id, expiresAt, keys, timer });
      return { id, expiresAt: new Date(expiresAt) };
    },

    /** Whether a session is live for this org and subject, or why not. */
    check(id: string, orgId: string, subjectId: string): SessionRefusal | undefined {
      const r = live(id, orgId, subjectId);
      return r.ok ? undefined : r.refusal;
    },

    /**
     * Runs `use` synchronously with the session's private key of an epoch, fetching it first if
     * the epoch is newer than the session (a rotation happened meanwhile).
     */
    async withKey<T>(
      id: string,
      owner: Pick<SessionOwner, 'orgId' | 'subjectId'>,
      epoch: EpochRow,
      use: (privateKey: Buffer) => T,
      signal?: AbortSignal,
    ): Promise<{ ok: true; value: T } | { ok: false; refusal: SessionRefusal }> {
      let r = live(id, owner.orgId, owner.subjectId);
      if (!r.ok) return r;
      if (!r.session.keys.has(epoch.epoch)) {
        const key = await deps.unwrapPrivate(epoch, signal);
        r = live(id, owner.orgId, owner.subjectId); // it may have ended while KMS answered
        if (!r.ok) {
          key.fill(0);
          return r;
        }
        const raced = r.session.keys.get(epoch.epoch);
        if (raced) key.fill(0);
        else r.session.keys.set(epoch.epoch, key);
      }
      const key = r.session.keys.get(epoch.epoch) as Buffer;
      return { ok: true, value: use(key) };
    },

    /** A copy of an org's private key of an epoch from any live session (for re-wrapping). */
    anyKey(orgId: string, epoch: number): Buffer | undefined {
      for (const s of sessions.values()) {
        if (s.orgId !== orgId || now() >= s.expiresAt) continue;
        const key = s.keys.get(epoch);
        if (key) return Buffer.from(key);
      }
      return undefined;
    },

    /** Ends a session and zeroes its keys; false when there was none for this org. */
    close(orgId: string, id: string): boolean {
      const s = sessions.get(id);
      if (!s || s.orgId !== orgId) return false;
      close(s);
      return true;
    },

    /** Ends every session of an org. */
    closeOrg(orgId: string): void {
      for (const s of [...sessions.values()]) if (s.orgId === orgId) close(s);
    },

    /** Zeroes an org's key of an epoch in every session (the epoch was retired). */
    forgetEpoch(orgId: string, epoch: number): void {
      for (const s of sessions.values()) {
        if (s.orgId !== orgId) continue;
        s.keys.get(epoch)?.fill(0);
        s.keys.delete(epoch);
      }
    },

    /** Ends every session (shutdown). */
    clear(): void {
      for (const s of [...sessions.values()]) close(s);
    },

    get size(): number {
      return sessions.size;
    },
  };
}

/** The Zero Trust session registry. */
export type SessionRegistry = ReturnType<typeof createSessionRegistry>;
