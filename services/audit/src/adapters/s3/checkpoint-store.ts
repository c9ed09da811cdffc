import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { checkpointKey, type SignedCheckpoint } from '../../domain/checkpoint.js';
import type { ObjectCheckpoint } from '../../domain/checkpoint-evidence.js';
import { createS3Client, type ObjectStoreOptions } from './s3-client.js';

/**
 * The object store copies of checkpoints. In production the bucket should have S3 Object
 * Lock (compliance mode) so that not even the service's own credentials can rewrite them.
 */
export function createCheckpointStore(o: ObjectStoreOptions, client = createS3Client(o)) {
  return {
    /** Writes a checkpoint's copy: the signed statement and its signature. */
    async put(cp: SignedCheckpoint, signal?: AbortSignal): Promise<void> {
      await client.send(
        new PutObjectCommand({
          Bucket: o.bucket,
          Key: checkpointKey(cp),
          ContentType: 'application/json',
          Body: JSON.stringify({
            statement: cp.statement,
            signature: cp.signature.toString('base64'),
          }),
        }),
        signal ? { abortSignal: signal } : {},
      );
    },

    /** Every checkpoint copy of an org; unreadable objects come back empty (and fail to verify). */
    async list(orgId: string, signal?: AbortSignal): Promise<ObjectCheckpoint[]> {
      const options = signal ? { abortSignal: signal } : {};
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: o.bucket,
            Prefix: `checkpoints/${orgId}/`,
            ...(token ? { ContinuationToken: token } : {}),
          }),
          options,
        );
        for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      const out: ObjectCheckpoint[] = [];
      for (const key of keys) {
        const got = await client.send(
          new GetObjectCommand({ Bucket: o.bucket, Key: key }),
          options,
        );
        const text = (await got.Body?.transformToString('utf8')) ?? '';
        out.push({ key, ...parseCopy(text) });
      }
      return out;
    },

    close: () => client.destroy(),
  };
}

/** The statement and signature of an object's text; empty when it is not one. */
function parseCopy(text: string): { statement: string; signature: Buffer } {
  try {
    const parsed = JSON.parse(text) as { statement?: unknown; signature?: unknown };
    if (typeof parsed.statement === 'string' && typeof parsed.signature === 'string')
      return { statement: parsed.statement, signature: Buffer.from(parsed.signature, 'base64') };
  } catch {
    // fall through: not a checkpoint copy
  }
  return { statement: '', signature: Buffer.alloc(0) };
}

/** The checkpoint store. */
export type CheckpointStore = ReturnType<typeof createCheckpointStore>;
