import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';

/** The credentials s3rver accepts (its fixed dummy account). */
export const OBJECT_STORE_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
/** The region clients name (s3rver ignores it). */
export const OBJECT_STORE_REGION = 'us-east-1';

/** A running S3-compatible object store on loopback. */
export interface ObjectStore {
  /** http://127.0.0.1:PORT */
  url: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

/**
 * Starts s3rver in this process on loopback, with its files under `dir` (kept across
 * restarts) and the given buckets created. Clients must use path-style addressing and set
 * the SDK's checksum settings to WHEN_REQUIRED (see STACK.md).
 */
export async function startObjectStore(options: {
  dir: string;
  buckets: string[];
  port?: number;
}): Promise<ObjectStore> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    directory: options.dir,
    silent: true,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  return {
    url: `http://127.0.0.1:${port}`,
    region: OBJECT_STORE_REGION,
    credentials: OBJECT_STORE_CREDENTIALS,
    stop: () => server.close(),
  };
}
