import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

/** Where archived objects live. */
export interface ArchiveStoreOptions {
  endpoint?: string | undefined;
  region: string;
  bucket: string;
}

/** The archive's object store: put and get of sealed records. */
export function createArchiveStore(o: ArchiveStoreOptions) {
  const client = new S3Client({
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint, forcePathStyle: true } : {}),
    // s3rver (and some other S3-compatible stores) corrupt uploads that carry the SDK's
    // default checksums: send and check them only when an operation requires it (STACK.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    async put(key: string, body: string): Promise<void> {
      await client.send(
        new PutObjectCommand({
          Bucket: o.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          // Server-side encryption on top of ours, where the store supports it (S3 does).
          ...(o.endpoint ? {} : { ServerSideEncryption: 'AES256' as const }),
        }),
      );
    },
    /** The object's text, or undefined when there is none. */
    async get(key: string): Promise<string | undefined> {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: o.bucket, Key: key }));
        return await r.Body?.transformToString('utf8');
      } catch (err) {
        if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey')
          return undefined;
        throw err;
      }
    },
    close: () => client.destroy(),
  };
}

/** The archive's object store. */
export type ArchiveStore = ReturnType<typeof createArchiveStore>;
