import { S3Client } from '@aws-sdk/client-s3';

/** Where the audit service's objects go (checkpoint copies, export segments). */
export interface ObjectStoreOptions {
  endpoint?: string;
  region: string;
  bucket: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The S3 client as our stores need it (path-style; checksums only when required). */
export function createS3Client(o: ObjectStoreOptions): S3Client {
  return new S3Client({
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint, forcePathStyle: true } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    // s3rver (and some other S3-compatible stores) store streamed uploads corrupted when the
    // SDK adds its default checksums: only send and check them when an operation requires it.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
