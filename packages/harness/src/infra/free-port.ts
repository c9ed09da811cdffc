import { createServer } from 'node:net';

/** Asks the kernel for a free TCP port on `host` by binding port 0; racy by nature, fine for loopback tests and local runs. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error(`could not read the port bound on "${host}"`);
  }
  return address.port;
}
