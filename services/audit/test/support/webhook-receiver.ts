import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request a receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver's answer; undefined for none. */
export type Answer = { status: number; headers?: Record<string, string> } | undefined;

/** A webhook receiver: a plain node:http server on 127.0.0.1, port 0. */
export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** TCP connections accepted, requests or not. */
  connections: number;
  /** What to answer (now or later); 204 by default. `undefined` never answers (a hung receiver). */
  respond: (r: Received) => Answer | Promise<Answer>;
  /** Ids of requests whose signature verifies with `secret` (a receiver's dedupe set). */
  verifiedIds(secret: string): Set<string>;
  close(): Promise<void>;
}

/** The receiver side of Standard Webhooks, with the reference verifier. */
export function verify(secret: string, r: Received): unknown {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });
}

/** Starts a receiver. */
export async function startReceiver(): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const receiver: Receiver = {
    url: '',
    port: 0,
    received: [],
    connections: 0,
    respond: () => ({ status: 204 }),
    verifiedIds(secret) {
      const ids = new Set<string>();
      for (const r of this.received) {
        verify(secret, r);
        ids.add(String(r.headers['webhook-id']));
      }
      return ids;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      receiver.received.push(r);
      void Promise.resolve(receiver.respond(r)).then((answer) => {
        if (answer) res.writeHead(answer.status, answer.headers).end();
      });
    });
  });
  server.on('connection', (s) => {
    receiver.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks`;
  return receiver;
}
