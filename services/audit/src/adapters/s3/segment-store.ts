import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SegmentObject } from '../../domain/export-segment.js';
import { createS3Client, type ObjectStoreOptions } from './s3-client.js';

/**
 * The server-side encryption asked of the object store for every segment: S3-managed keys
 * (AES256), a KMS key (aws:kms, the bucket's default key unless one is named), or none for a
 * store that refuses the header.
 */
export type SegmentEncryption =
  { mode: 'AES256' } | { mode: 'aws:kms'; kmsKeyId?: string } | { mode: 'none' };

/** Where export segments go and how they are encrypted there. */
export interface SegmentStoreOptions extends ObjectStoreOptions {
  encryption: SegmentEncryption;
}

/** The server-side encryption parameters of a PutObject. */
function sseOf(e: SegmentEncryption) {
  switch (e.mode) {
    case 'AES256':
      return { ServerSideEncryption: 'AES256' as const };
    case 'aws:kms':
      return {
        ServerSideEncryption: 'aws:kms' as const,
        ...(e.kmsKeyId ? { SSEKMSKeyId: e.kmsKeyId } : {}),
      };
    case 'none':
      return {};
  }
}

/**
 * The object store side of the export. A segment is sent whole from memory with the SHA-256
 * of its exact bytes: a plain body, not the SDK's streamed upload with trailing checksums
 * (which s3rver stores corrupted, STACK.md), and S3 itself refuses an upload whose bytes do
 * not match the checksum.
 */
export function createSegmentStore(o: SegmentStoreOptions, client: S3Client = createS3Client(o)) {
  const sse = sseOf(o.encryption);
  return {
    /** Writes a segment; writing the same segment again leaves the same object. */
    async put(segment: SegmentObject, signal?: AbortSignal): Promise<void> {
      await client.send(
        new PutObjectCommand({
          Bucket: o.bucket,
          Key: segment.key,
          Body: segment.body,
          ContentLength: segment.body.length,
          ContentType: 'application/gzip',
          ChecksumSHA256: segment.sha256,
          Metadata: segment.metadata,
          ...sse,
        }),
        signal ? { abortSignal: signal } : {},
      );
    },

    close: () => client.destroy(),
  };
}

/** The segment store. */
export type SegmentStore = ReturnType<typeof createSegmentStore>;

const ACCESS = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'KMS.AccessDeniedException',
]);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE']);

/**
 * Why a segment write failed, as a class an admin may see ("timeout", "access_denied",
 * "no_such_bucket", "unavailable", "error"): never the store's own text.
 */
export function segmentErrorClass(err: unknown): string {
  const e = err as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
  } | null;
  const name = typeof e?.name === 'string' ? e.name : '';
  const code = typeof e?.code === 'string' ? e.code : '';
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'ETIMEDOUT') return 'timeout';
  if (ACCESS.has(name)) return 'access_denied';
  if (name === 'NoSuchBucket') return 'no_such_bucket';
  if (NETWORK.has(code) || (e?.$metadata?.httpStatusCode ?? 0) >= 500) return 'unavailable';
  return 'error';
}
