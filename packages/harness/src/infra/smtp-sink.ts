import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { decodeMail, type DecodedMail } from './mail-text.js';

/** One message the sink accepted. */
export interface SunkMail extends DecodedMail {
  /** The envelope: MAIL FROM and every RCPT TO. */
  from: string;
  to: string[];
  /** The message as received (header and body). */
  raw: string;
}

/** Options of a sink. */
export interface SmtpSinkOptions {
  /** Require AUTH (PLAIN or LOGIN) with these credentials; without, no AUTH is offered. */
  auth?: { user: string; password: string };
  /** Also write each message to `<dir>/<n>.eml`, for people to read (the local stack). */
  dir?: string;
  /** The port to listen on; 0 (the default) picks a free one. */
  port?: number;
}

/** A mail sink: a real SMTP server (smtp-server) on 127.0.0.1 that keeps what it accepts. */
export interface SmtpSink {
  host: string;
  port: number;
  messages: SunkMail[];
  /** Refuse logins from now on (answers 535), to exercise a relay that rejects credentials. */
  refuseAuth: boolean;
  /** Recipients refused for good (550 to their RCPT TO). */
  refusedRecipients: Set<string>;
  /** Stops listening: connections are refused until `start` (the relay is down). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a sink; close it when done. Plain SMTP only (clients must not require STARTTLS). */
export async function startSmtpSink(o: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SunkMail[] = [];
  let server: SMTPServer | undefined;
  let port = o.port ?? 0;

  const sink: SmtpSink = {
    host: '127.0.0.1',
    port,
    messages,
    refuseAuth: false,
    refusedRecipients: new Set(),
    async start() {
      if (server) return;
      const s = new SMTPServer({
        logger: false,
        secure: false,
        disabledCommands: o.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
        authOptional: !o.auth,
        allowInsecureAuth: true,
        authMethods: ['PLAIN', 'LOGIN'],
        onAuth(auth, _session, done) {
          const ok =
            !sink.refuseAuth &&
            auth.username === o.auth?.user &&
            auth.password === o.auth?.password;
          done(
            ok ? null : Object.assign(new Error('authentication failed'), { responseCode: 535 }),
            ok ? { user: auth.username } : undefined,
          );
        },
        onRcptTo(address, _session, done) {
          if (sink.refusedRecipients.has(address.address))
            done(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
          else done();
        },
        onData(stream, session, done) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            messages.push({
              ...decodeMail(raw),
              from,
              to: session.envelope.rcptTo.map((r) => r.address),
              raw,
            });
            const saved = o.dir
              ? mkdir(o.dir, { recursive: true }).then(() =>
                  writeFile(join(o.dir ?? '', `${Date.now()}-${messages.length}.eml`), raw),
                )
              : Promise.resolve();
            saved.then(
              () => done(),
              (err: unknown) => done(err instanceof Error ? err : new Error('cannot keep message')),
            );
          });
        },
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      port = (s.server.address() as AddressInfo).port;
      sink.port = port;
      server = s;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      // Drop sessions still open rather than wait out smtp-server's grace period.
      for (const c of s.connections) c.close();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async close() {
      await sink.stop();
    },
  };
  await sink.start();
  return sink;
}
