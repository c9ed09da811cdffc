import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { AuditRecord } from '@fortress/proto/audit/v1/audit_pb';
import { FailedPreconditionError } from '@fortress/kit/errors';
import { checkpointKey } from './checkpoint.js';
import { jsonLine } from './export-format.js';

/** An org's export setting as stored; no row means export is on. */
export interface ExportSetting {
  enabled: boolean;
  /** The chain position of the change-log row of the last change that flipped `enabled`. */
  changedSeq: bigint;
}

/**
 * Whether the span sealed after `previousCheckpointSeq` is exported: when export was on at any
 * time during it. It is on now, or it was switched off inside the span (the last flip lies
 * after the previous checkpoint, so it was on just before that flip). So every record written
 * while export is on is exported — the change that turns it off included — and only spans that
 * lie wholly inside an off period are not. Spans are whole: erring towards exporting a few
 * records written while off beats losing records written while on.
 */
export function spanExported(
  setting: ExportSetting | undefined,
  previousCheckpointSeq: bigint,
): boolean {
  return !setting || setting.enabled || setting.changedSeq > previousCheckpointSeq;
}

/** A slice of a sealed span, written as one object. */
export interface SegmentSpan {
  orgId: string;
  firstSeq: bigint;
  lastSeq: bigint;
  /** The periodic checkpoint that sealed it (its signed copy vouches for the chain there). */
  checkpointSeq: bigint;
}

/**
 * The segments of the span `first..last` sealed by the checkpoint at `last`: one, or slices of
 * at most `max` records when the span is longer (a checkpointer that caught up after an
 * outage), so that no segment has to be held whole in memory beyond `max` records.
 */
export function segmentsOf(orgId: string, first: bigint, last: bigint, max: number): SegmentSpan[] {
  const out: SegmentSpan[] = [];
  const step = BigInt(max);
  for (let from = first; from <= last; from += step) {
    const to = from + step - 1n < last ? from + step - 1n : last;
    out.push({ orgId, firstSeq: from, lastSeq: to, checkpointSeq: last });
  }
  return out;
}

const pad = (seq: bigint) => seq.toString().padStart(20, '0');

/** The object key of a segment: one prefix per org, sortable by sequence. */
export const segmentKey = (s: SegmentSpan): string =>
  `audit-export/${s.orgId}/${pad(s.firstSeq)}-${pad(s.lastSeq)}.jsonl.gz`;

/** A segment ready to write: the key, the gzipped JSON lines, and what vouches for them. */
export interface SegmentObject {
  key: string;
  body: Buffer;
  /** SHA-256 of the body, base64 (the checksum the object store checks the upload against). */
  sha256: string;
  /** Object metadata (x-amz-meta-*): where the segment sits in the chain. */
  metadata: Record<string, string>;
}

/** The rows of a segment are not all there (the log lost rows the export still owed). */
export class SegmentIncompleteError extends FailedPreconditionError {
  /** Creates the error for the segment and the first sequence missing. */
  constructor(s: SegmentSpan, missing: bigint) {
    super(
      'segment_incomplete',
      `export segment ${s.firstSeq}-${s.lastSeq} of "${s.orgId}" lacks record ${missing}`,
    );
  }
}

/**
 * The object of a segment: its records as JSON lines (the JSON_LINES export format, oldest
 * first), gzipped, with the chain hash of its last record and the checkpoint that sealed it.
 * The same records always give the same bytes (gzip without a timestamp), so rewriting a
 * segment after a failed or doubtful attempt changes nothing.
 */
export function segmentObject(
  s: SegmentSpan,
  records: readonly AuditRecord[],
  lastHash: Buffer,
): SegmentObject {
  let expected = s.firstSeq;
  for (const r of records) {
    if (r.sequence !== expected) throw new SegmentIncompleteError(s, expected);
    expected++;
  }
  if (expected !== s.lastSeq + 1n) throw new SegmentIncompleteError(s, expected);
  const body = gzipSync(Buffer.from(records.map(jsonLine).join(''), 'utf8'));
  return {
    key: segmentKey(s),
    body,
    sha256: createHash('sha256').update(body).digest('base64'),
    metadata: {
      'fortress-org-id': s.orgId,
      'fortress-first-seq': s.firstSeq.toString(),
      'fortress-last-seq': s.lastSeq.toString(),
      'fortress-records': String(records.length),
      'fortress-last-hash': lastHash.toString('hex'),
      'fortress-checkpoint-seq': s.checkpointSeq.toString(),
      'fortress-checkpoint-key': checkpointKey({
        orgId: s.orgId,
        kind: 'periodic',
        seq: s.checkpointSeq,
      }),
    },
  };
}
