import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { ChainPoint } from './chain.js';

/** Why a checkpoint was made: every N events or T seconds, or just before a retention delete. */
export type CheckpointKind = 'periodic' | 'retention';

/** What a checkpoint asserts: the org's chain had this hash at this sequence, at this time. */
export interface CheckpointStatement {
  kind: CheckpointKind;
  orgId: string;
  seq: bigint;
  headHash: Buffer;
  signedAt: Date;
  keyId: string;
}

/** A statement with its exact signed text and Ed25519 signature, as stored twice. */
export interface SignedCheckpoint extends CheckpointStatement {
  /** The canonical JSON that was signed. */
  statement: string;
  signature: Buffer;
}

const TYPE = 'fortress.audit.checkpoint';

/** The object key of a checkpoint's copy: one prefix per org, sortable by sequence. */
export function checkpointKey(cp: { orgId: string; kind: string; seq: bigint }): string {
  return `checkpoints/${cp.orgId}/${cp.kind}/${cp.seq.toString().padStart(20, '0')}.json`;
}

/** The canonical text of a statement: the bytes that are signed. */
export function statementText(s: CheckpointStatement): string {
  return canonicalJson({
    type: TYPE,
    v: 1,
    kind: s.kind,
    org_id: s.orgId,
    seq: s.seq.toString(),
    head_hash: s.headHash.toString('hex'),
    signed_at: s.signedAt.toISOString(),
    key_id: s.keyId,
  });
}

/** A signing key: the Ed25519 private key and the id verifiers know its public half by. */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
}

/** Signs "the chain of `orgId` is at `point`" now. */
export function signCheckpoint(
  key: SigningKey,
  kind: CheckpointKind,
  orgId: string,
  point: ChainPoint,
  signedAt: Date,
): SignedCheckpoint {
  const s: CheckpointStatement = {
    kind,
    orgId,
    seq: point.seq,
    headHash: point.hash,
    signedAt,
    keyId: key.keyId,
  };
  const statement = statementText(s);
  return { ...s, statement, signature: sign(null, Buffer.from(statement), key.privateKey) };
}

const HEX32 = /^[0-9a-f]{64}$/;

/**
 * Reads a signed statement back: undefined unless the text is a well-formed statement, in
 * canonical form, signed by a key of `keys` under its own key id.
 */
export function openCheckpoint(
  statement: string,
  signature: Buffer,
  keys: ReadonlyMap<string, KeyObject>,
): SignedCheckpoint | undefined {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(statement) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { kind, org_id, seq, head_hash, signed_at, key_id } = parsed;
  if (
    parsed['type'] !== TYPE ||
    parsed['v'] !== 1 ||
    (kind !== 'periodic' && kind !== 'retention') ||
    typeof org_id !== 'string' ||
    typeof seq !== 'string' ||
    !/^\d{1,19}$/.test(seq) ||
    typeof head_hash !== 'string' ||
    !HEX32.test(head_hash) ||
    typeof signed_at !== 'string' ||
    typeof key_id !== 'string'
  )
    return undefined;
  const signedAt = new Date(signed_at);
  if (Number.isNaN(signedAt.getTime())) return undefined;
  const s: CheckpointStatement = {
    kind,
    orgId: org_id,
    seq: BigInt(seq),
    headHash: Buffer.from(head_hash, 'hex'),
    signedAt,
    keyId: key_id,
  };
  // Only the canonical text counts: the same fields written differently are not the statement.
  if (statementText(s) !== statement) return undefined;
  const publicKey = keys.get(key_id);
  if (!publicKey || !verify(null, Buffer.from(statement), publicKey, signature)) return undefined;
  return { ...s, statement, signature };
}
