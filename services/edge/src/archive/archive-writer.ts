import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@fortress/kit/log';
import { archiveObjectKey, sealRecord, segmentObjectKey } from './archive-crypto.js';

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
  /** A segment closes at this many records, this many bytes or this age, whichever is first. */
  segmentMaxRecords?: number;
  segmentMaxBytes?: number;
  segmentMaxAgeMs?: number;
  uploadConcurrency?: number;
  now?: () => number;
}

const SEP = '__';
/** A segment still taking records; renamed to SEGMENT once closed. */
const OPEN = '.open';
const SEGMENT = '.jsonl';
/** One request's object, as a previous version of the writer spooled them. */
const SINGLE = '.json';

const orgOfFile = (file: string) => file.slice(0, file.indexOf(SEP));
const nameOfFile = (file: string, ext: string) =>
  file.slice(file.indexOf(SEP) + SEP.length, -ext.length);
/** Where a spooled file goes in the object store. */
const objectKeyOfFile = (file: string) =>
  file.endsWith(SEGMENT)
    ? segmentObjectKey(orgOfFile(file), nameOfFile(file, SEGMENT))
    : archiveObjectKey(orgOfFile(file), nameOfFile(file, SINGLE));

/** A segment id: when it opened (UTC, to the second), then random. */
const segmentId = (at: number) =>
  `${new Date(at).toISOString().replace(/[-:]/g, '').slice(0, 15)}Z-${randomBytes(6).toString('hex')}`;

/** An org's segment: the records of many requests, one sealed JSON line each. */
interface Segment {
  orgId: string;
  id: string;
  objectKey: string;
  /** Its spool file while open, and the handle records are appended through. */
  file: string;
  handle: FileHandle | undefined;
  openedAt: number;
  /** Records handed to it, and how many of them are sealed into its file. */
  assigned: number;
  assignedBytes: number;
  sealed: number;
  /** Its lines, kept (within the memory bound) so its upload needs no read of the file. */
  lines: string[] | undefined;
  linesBytes: number;
  closing: boolean;
}

/**
 * The PAT archive writer, off the request path. A finished exchange is handed over with `add`,
 * which never waits and says at once which object will hold it: the org's current segment. A
 * pump seals each record with the org's archive key (AES-256-GCM) and appends it to that
 * segment's spool file — from then on it survives a crash or an outage of the object store. A
 * segment closes at a number of records, a size or an age (a second by default), whichever
 * comes first, and uploaders move closed segments to S3 as one object each, retrying with
 * backoff until they are stored: one PUT for many requests, not one each. Nothing plaintext is
 * ever written to disk. When the backlog passes a bound the orgs concerned are told
 * (`archive.behind`).
 *
 * Loss is possible only for records not yet sealed: those held in memory at a crash, or
 * refused because the memory bound was reached while the vault could not hand out keys —
 * each refusal is logged and notified (`archive.record_dropped`).
 */
export function createArchiveWriter(deps: ArchiveWriterDeps) {
  const { logger } = deps;
  const now = deps.now ?? Date.now;
  const maxRecords = deps.segmentMaxRecords ?? 1000;
  const maxBytes = deps.segmentMaxBytes ?? 16 * 1024 * 1024;
  const maxAgeMs = deps.segmentMaxAgeMs ?? 1000;
  const pending: Array<{ entry: ArchiveEntry; segment: Segment }> = [];
  let pendingBytes = 0;
  /** Per org, the segment new records go to. */
  const filling = new Map<string, Segment>();
  /** Segments opened and not yet closed (filling, or waiting for their records' seals). */
  const unfinished = new Set<Segment>();
  /** Closed segments (and single objects of old) waiting for upload: when, how many records. */
  const spooled = new Map<string, { at: number; records: number }>();
  /** The bodies of spooled files, kept within the memory bound; others are read back. */
  const sealedBodies = new Map<string, string>();
  let keptBytes = 0;
  const forget = (file: string) => {
    const body = sealedBodies.get(file);
    if (body === undefined) return;
    sealedBodies.delete(file);
    keptBytes -= body.length;
  };
  const uploading = new Set<string>();
  let sealing = false;
  let closed = false;
  let behind = false;
  let retryMs = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const dropping = new Set<string>();

  const full = (s: Segment) =>
    s.assigned >= maxRecords || s.assignedBytes >= maxBytes || now() - s.openedAt >= maxAgeMs;

  const openSegment = (orgId: string): Segment => {
    const openedAt = now();
    const id = segmentId(openedAt);
    const s: Segment = {
      orgId,
      id,
      objectKey: segmentObjectKey(orgId, id),
      file: `${orgId}${SEP}${id}${OPEN}`,
      handle: undefined,
      openedAt,
      assigned: 0,
      assignedBytes: 0,
      sealed: 0,
      lines: [],
      linesBytes: 0,
      closing: false,
    };
    unfinished.add(s);
    return s;
  };

  /** Closes a segment once every record given to it is sealed and it is full or old enough. */
  const closeIfDone = async (s: Segment, force = false) => {
    if (s.closing || s.sealed < s.assigned) return;
    if (!force && !full(s)) return;
    s.closing = true;
    if (filling.get(s.orgId) === s) filling.delete(s.orgId);
    unfinished.delete(s);
    if (s.sealed === 0) return;
    const ready = `${s.orgId}${SEP}${s.id}${SEGMENT}`;
    try {
      await s.handle?.close();
      s.handle = undefined;
      await rename(join(deps.spoolDir, s.file), join(deps.spoolDir, ready));
    } catch (err) {
      // Left open on disk: the next start picks it up as closed.
      logger.error({ err, file: s.file }, 'archive segment not closed; it waits for a restart');
      return;
    }
    // Its lines' bytes are already counted in keptBytes; they now make up the body.
    if (s.lines) sealedBodies.set(ready, s.lines.join(''));
    spooled.set(ready, { at: now(), records: s.sealed });
    uploadSome();
  };

  const sealNext = async () => {
    if (sealing || closed) return;
    sealing = true;
    try {
      while (pending.length > 0 && !closed) {
        const { entry, segment } = pending[0] as (typeof pending)[number];
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
          entry.requestId,
        );
        const line = `${JSON.stringify(sealed)}\n`;
        segment.handle ??= await open(join(deps.spoolDir, segment.file), 'a', 0o600);
        await segment.handle.appendFile(line);
        pending.shift();
        // Spooled: a retry never needs the key again.
        entry.key?.bytes.fill(0);
        pendingBytes -= entry.size;
        dropping.delete(entry.orgId);
        segment.sealed += 1;
        if (segment.lines && keptBytes + line.length <= deps.maxPendingBytes) {
          segment.lines.push(line);
          segment.linesBytes += line.length;
          keptBytes += line.length;
        } else if (segment.lines) {
          keptBytes -= segment.linesBytes;
          segment.lines = undefined;
        }
        await closeIfDone(segment);
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
      await deps.put(objectKeyOfFile(file), body);
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
    let waiting = pending.length;
    let oldest = pending.length > 0 ? now() : Infinity;
    for (const s of spooled.values()) {
      waiting += s.records;
      oldest = Math.min(oldest, s.at);
    }
    const late = waiting > 0 && now() - oldest > deps.behindMs;
    if (!behind && (waiting > deps.behindRecords || late)) {
      behind = true;
      logger.warn({ waiting }, 'the archive is behind');
      for (const orgId of orgsWaiting())
        deps.notify(orgId, 'archive.behind', {
          waiting,
          oldestAgeSeconds: Math.round((now() - oldest) / 1000),
        });
    } else if (behind && waiting === 0) {
      behind = false;
      logger.info('the archive has caught up');
    }
  };
  const tick = setInterval(
    () => {
      for (const s of [...unfinished]) void closeIfDone(s);
      checkBehind();
    },
    Math.min(1000, Math.max(10, Math.floor(maxAgeMs / 2))),
  );
  tick.unref();

  return {
    /** Picks up what a previous run left in the spool (open segments count as closed). */
    async start(): Promise<void> {
      await mkdir(deps.spoolDir, { recursive: true, mode: 0o700 });
      for (const file of await readdir(deps.spoolDir)) {
        if (file.startsWith('.') || !file.includes(SEP)) continue;
        let ready = file;
        if (file.endsWith(OPEN)) {
          ready = `${file.slice(0, -OPEN.length)}${SEGMENT}`;
          await rename(join(deps.spoolDir, file), join(deps.spoolDir, ready));
        } else if (!file.endsWith(SEGMENT) && !file.endsWith(SINGLE)) continue;
        spooled.set(ready, { at: now(), records: 1 });
      }
      uploadSome();
    },

    /**
     * Hands a finished exchange over; never waits. Returns the key of the object that will
     * hold its record (its org's current segment), or undefined when it was dropped.
     */
    add(entry: ArchiveEntry): string | undefined {
      if (closed) return undefined;
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
        return undefined;
      }
      let segment = filling.get(entry.orgId);
      if (!segment || full(segment)) {
        if (segment) void closeIfDone(segment);
        segment = openSegment(entry.orgId);
        filling.set(entry.orgId, segment);
      }
      segment.assigned += 1;
      segment.assignedBytes += entry.size;
      pending.push({ entry, segment });
      pendingBytes += entry.size;
      void sealNext();
      return segment.objectKey;
    },

    /** Records waiting: not yet sealed, and sealed but not yet stored. */
    backlog: () => ({
      pending: pending.length,
      spooled: [...spooled.values()].reduce((n, s) => n + s.records, 0),
    }),

    /**
     * Stops: seals what waits, closes the open segments and uploads them (for up to five
     * seconds, while the object store answers); what is left stays in the spool for the next
     * start.
     */
    async close(): Promise<void> {
      const deadline = now() + 5000;
      const wait = () => new Promise((r) => setTimeout(r, 20));
      while ((pending.length > 0 || sealing) && now() < deadline && !retryTimer) await wait();
      for (const s of [...unfinished]) await closeIfDone(s, true);
      while ((spooled.size > 0 || uploading.size > 0) && now() < deadline && !retryTimer)
        await wait();
      // Segments still waiting for seals stay open on disk: the next start takes them as closed.
      for (const s of unfinished) await s.handle?.close().catch(() => undefined);
      closed = true;
      clearInterval(tick);
      if (retryTimer) clearTimeout(retryTimer);
    },
  };
}

/** The archive writer. */
export type ArchiveWriter = ReturnType<typeof createArchiveWriter>;
