import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@fortress/kit/log';
import { archiveObjectKey, sealRecord } from './archive-crypto.js';

/** An org's archive key as the vault hands it out. */
export interface ArchiveKey {
  id: string;
  bytes: Uint8Array;
}

/** One request's record to archive (plaintext JSON; it never touches the disk as such). */
export interface ArchiveEntry {
  orgId: string;
  requestId: string;
  record: Record<string, unknown>;
  /** Bytes the record holds in memory until sealed (its bodies). */
  size: number;
  /**
   * The key to seal this record with, when the request brought its own: a Zero Trust org's
   * archive key opens only inside the request's vault session. Zeroed once the record is sealed
   * (or dropped). Without it the writer asks for the org's key.
   */
  key?: ArchiveKey;
}

/** What the writer needs. */
export interface ArchiveWriterDeps {
  /** The org's current archive key (the vault's, cached by the caller). */
  key(orgId: string): Promise<ArchiveKey>;
  /** Stores an object (S3 PUT); throws when it could not. */
  put(objectKey: string, body: string): Promise<void>;
  /** Where sealed records wait for the object store; survives restarts. */
  spoolDir: string;
  logger: Logger;
  /** Raises an org notification (archive.behind, archive.caught_up, archive.record_dropped). */
  notify(orgId: string, type: string, data: Record<string, string | number>): void;
  /** Behind: more sealed records than this waiting, or the oldest waiting longer than this. */
  behindRecords: number;
  behindMs: number;
  /** Records not yet sealed are held in memory up to this many bytes. */
  maxPendingBytes: number;
  uploadConcurrency?: number;
  now?: () => number;
}

const SEP = '__';
const fileOf = (orgId: string, requestId: string) => `${orgId}${SEP}${requestId}.json`;
const orgOfFile = (file: string) => file.slice(0, file.indexOf(SEP));
const requestOfFile = (file: string) => file.slice(file.indexOf(SEP) + SEP.length, -5);

/**
 * The PAT archive writer, off the request path. A finished exchange is handed over with
 * `add` (which never waits); a pump seals it with the org's archive key (AES-256-GCM) and
 * writes it to a local spool atomically — from then on it survives a crash or an outage of
 * the object store — and uploaders move spooled objects to S3, retrying with backoff until they
 * are stored. Nothing plaintext is ever written to disk. When the backlog passes a bound the
 * orgs concerned are told (`archive.behind`), and again when it has cleared.
 *
 * Loss is possible only for records not yet sealed: those held in memory at a crash, or
 * refused because the memory bound was reached while the vault could not hand out keys —
 * each refusal is logged and notified (`archive.record_dropped`).
 */
export function createArchiveWriter(deps: ArchiveWriterDeps) {
  const { logger } = deps;
  const now = deps.now ?? Date.now;
  const pending: ArchiveEntry[] = [];
  let pendingBytes = 0;
  /** Spooled files waiting for upload, with when they were spooled. */
  const spooled = new Map<string, number>();
  /**
   * The sealed bodies of spooled files, kept (within the memory bound) so an upload needs no
   * read of the file it just wrote; files picked up at start, or past the bound, are read.
   */
  const sealedBodies = new Map<string, string>();
  let sealedBytes = 0;
  const forget = (file: string) => {
    const body = sealedBodies.get(file);
    if (body === undefined) return;
    sealedBodies.delete(file);
    sealedBytes -= body.length;
  };
  const uploading = new Set<string>();
  let sealing = false;
  let closed = false;
  let behind = false;
  let retryMs = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const dropping = new Set<string>();

  const sealNext = async () => {
    if (sealing || closed) return;
    sealing = true;
    try {
      while (pending.length > 0 && !closed) {
        const entry = pending[0] as ArchiveEntry;
        const objectKey = archiveObjectKey(entry.orgId, entry.requestId);
        let key: ArchiveKey;
        try {
          key = entry.key ?? (await deps.key(entry.orgId));
        } catch (err) {
          logger.warn({ err, orgId: entry.orgId }, 'archive key unavailable; records wait');
          scheduleRetry();
          return;
        }
        const sealed = sealRecord(
          Buffer.from(JSON.stringify(entry.record)),
          key,
          entry.orgId,
          objectKey,
        );
        const file = fileOf(entry.orgId, entry.requestId);
        const tmp = join(deps.spoolDir, `.${file}.tmp`);
        const body = JSON.stringify(sealed);
        await writeFile(tmp, body, { mode: 0o600 });
        await rename(tmp, join(deps.spoolDir, file));
        if (sealedBytes + body.length <= deps.maxPendingBytes) {
          sealedBodies.set(file, body);
          sealedBytes += body.length;
        }
        pending.shift();
        // Spooled: a retry never needs the key again.
        entry.key?.bytes.fill(0);
        pendingBytes -= entry.size;
        dropping.delete(entry.orgId);
        spooled.set(file, now());
      }
    } catch (err) {
      logger.error({ err }, 'archive spool write failed; records wait');
      scheduleRetry();
      return;
    } finally {
      sealing = false;
    }
    uploadSome();
  };

  const uploadOne = async (file: string) => {
    uploading.add(file);
    try {
      const path = join(deps.spoolDir, file);
      const body = sealedBodies.get(file) ?? (await readFile(path, 'utf8'));
      await deps.put(archiveObjectKey(orgOfFile(file), requestOfFile(file)), body);
      await unlink(path).catch(() => undefined);
      spooled.delete(file);
      forget(file);
      retryMs = 0;
    } catch (err) {
      logger.warn({ err, file }, 'archive upload failed; will retry');
      scheduleRetry();
    } finally {
      uploading.delete(file);
    }
  };

  /** Starts uploads up to the concurrency; each finished upload starts the next. */
  const uploadSome = () => {
    if (closed || retryTimer) return;
    const limit = deps.uploadConcurrency ?? 4;
    for (const file of spooled.keys()) {
      if (uploading.size >= limit) break;
      if (!uploading.has(file)) void uploadOne(file).then(uploadSome);
    }
    checkBehind();
  };

  const scheduleRetry = () => {
    if (retryTimer || closed) return;
    retryMs = Math.min(Math.max(retryMs * 2, 100), 5000);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void sealNext();
      uploadSome();
    }, retryMs);
    retryTimer.unref();
    checkBehind();
  };

  const orgsWaiting = () => new Set([...spooled.keys()].map(orgOfFile));

  const checkBehind = () => {
    const oldest = Math.min(...spooled.values(), ...pending.map(() => now()));
    const backlog = spooled.size + pending.length;
    const late = backlog > 0 && now() - oldest > deps.behindMs;
    if (!behind && (backlog > deps.behindRecords || late)) {
      behind = true;
      logger.warn({ backlog }, 'the archive is behind');
      for (const orgId of orgsWaiting())
        deps.notify(orgId, 'archive.behind', {
          waiting: backlog,
          oldestAgeSeconds: Math.round((now() - oldest) / 1000),
        });
    } else if (behind && backlog === 0) {
      behind = false;
      logger.info('the archive has caught up');
    }
  };
  const behindTimer = setInterval(checkBehind, 1000);
  behindTimer.unref();

  return {
    /** Picks up what a previous run left in the spool. */
    async start(): Promise<void> {
      await mkdir(deps.spoolDir, { recursive: true, mode: 0o700 });
      for (const file of await readdir(deps.spoolDir))
        if (!file.startsWith('.') && file.includes(SEP)) spooled.set(file, now());
      uploadSome();
    },

    /** Hands a finished exchange over; never waits. */
    add(entry: ArchiveEntry): void {
      if (closed) return;
      if (pendingBytes + entry.size > deps.maxPendingBytes) {
        logger.error(
          { orgId: entry.orgId, requestId: entry.requestId },
          'archive record dropped: too much waits for a key',
        );
        entry.key?.bytes.fill(0);
        if (!dropping.has(entry.orgId)) {
          dropping.add(entry.orgId);
          deps.notify(entry.orgId, 'archive.record_dropped', { requestId: entry.requestId });
        }
        return;
      }
      pending.push(entry);
      pendingBytes += entry.size;
      void sealNext();
    },

    /** Records waiting: not yet sealed, and sealed but not yet stored. */
    backlog: () => ({ pending: pending.length, spooled: spooled.size }),

    /** Stops; what is spooled stays for the next start, what is not sealed is sealed first. */
    async close(): Promise<void> {
      const deadline = now() + 5000;
      while ((pending.length > 0 || sealing) && now() < deadline && !retryTimer)
        await new Promise((r) => setTimeout(r, 20));
      closed = true;
      clearInterval(behindTimer);
      if (retryTimer) clearTimeout(retryTimer);
    },
  };
}

/** The archive writer. */
export type ArchiveWriter = ReturnType<typeof createArchiveWriter>;
