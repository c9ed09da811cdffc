import { createTransport } from 'nodemailer';
import type { Secret } from '@fortress/kit/secret';

/** How the connection to the relay is protected. */
export type SmtpTls = 'starttls' | 'implicit' | 'none';

/** The SMTP relay alert emails go through. */
export interface SmtpOptions {
  host: string;
  port: number;
  /**
   * "starttls": upgrade with STARTTLS and refuse a relay that does not offer it (port 587);
   * "implicit": TLS from the first byte (port 465); "none": plain SMTP, for a relay on
   * loopback or a trusted network only.
   */
  tls: SmtpTls;
  user?: string;
  password?: Secret;
  /** The From address, e.g. `Fortress Alerts <alerts@example.com>`. */
  from: string;
  /** Per attempt: connecting, the greeting, and each exchange. */
  timeoutMs: number;
}

/** One email to send. */
export interface OutgoingEmail {
  /** A stable Message-ID (without angle brackets): the same on every attempt. */
  messageId: string;
  to: string[];
  subject: string;
  text: string;
  headers: Record<string, string>;
}

/** Why a send failed, as a class: never the relay's own text, which may echo anything. */
export type SmtpErrorClass =
  | 'connection_refused'
  | 'timeout'
  | 'tls_error'
  | 'auth_failed'
  | 'rejected'
  | 'network_error'
  | 'smtp_error';

/** How a send went. `permanent`: the relay refused it for good (a 5xx to the message). */
export type SendResult =
  { ok: true; rejected: number } | { ok: false; error: SmtpErrorClass; permanent: boolean };

/** Sends alert emails. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<SendResult>;
  close(): void;
}

interface SmtpError {
  code?: string;
  responseCode?: number;
}

/** The class of a nodemailer error, from its code (and the cause's, for socket errors). */
export function classify(err: unknown): { error: SmtpErrorClass; permanent: boolean } {
  const e = (err ?? {}) as SmtpError & { cause?: { code?: string } };
  const rc = e.responseCode ?? 0;
  switch (e.code) {
    case 'EAUTH':
    case 'ENOAUTH':
      return { error: 'auth_failed', permanent: false };
    case 'ETIMEDOUT':
      return { error: 'timeout', permanent: false };
    case 'ETLS':
    case 'EREQUIRETLS':
      return { error: 'tls_error', permanent: false };
    case 'EENVELOPE':
    case 'EMESSAGE':
      return { error: 'rejected', permanent: rc >= 500 && rc < 600 };
    case 'EDNS':
    case 'ESOCKET':
    case 'ECONNECTION': {
      const text = String((err as Error | undefined)?.message ?? '');
      if (/ECONNREFUSED/.test(text) || e.cause?.code === 'ECONNREFUSED')
        return { error: 'connection_refused', permanent: false };
      if (/ETIMEDOUT|timeout/i.test(text)) return { error: 'timeout', permanent: false };
      return { error: 'network_error', permanent: false };
    }
    default:
      return { error: 'smtp_error', permanent: false };
  }
}

/**
 * The SMTP mailer: one connection per email (alerts are few; no pool to go stale), nodemailer
 * with its logging off (its debug output would carry the AUTH exchange) and with no access to
 * files or URLs from message fields. Errors are reduced to a class before anyone sees them.
 */
export function createMailer(o: SmtpOptions): Mailer {
  const transport = createTransport({
    host: o.host,
    port: o.port,
    secure: o.tls === 'implicit',
    requireTLS: o.tls === 'starttls',
    ignoreTLS: o.tls === 'none',
    ...(o.user ? { auth: { user: o.user, pass: o.password?.reveal() ?? '' } } : {}),
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    async send(email) {
      try {
        const info = await transport.sendMail({
          from: o.from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          messageId: `<${email.messageId}>`,
          headers: email.headers,
        });
        return { ok: true, rejected: info.rejected.length };
      } catch (err) {
        return { ok: false, ...classify(err) };
      }
    },
    close: () => transport.close(),
  };
}
