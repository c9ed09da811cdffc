import type { Logger } from './log.js';

/**
 * Announces that a service is ready, with its ports, as one JSON line on stdout — whatever the
 * log level, since process supervisors (the local stack, tests) wait for it.
 */
export function announceReady(service: string, ports: Record<string, number>): void {
  process.stdout.write(
    `${JSON.stringify({ level: 'info', time: new Date().toISOString(), service, msg: 'service ready', ...ports })}\n`,
  );
}

/** Something to close on shutdown. */
export type Closer = () => Promise<void> | void;

/**
 * Runs a service: calls `start`, which returns what to close (in start order), then closes
 * it all in reverse on SIGTERM or SIGINT, with a bound on how long closing may take. A
 * failed start logs the cause and exits non-zero.
 */
export async function runService(
  logger: Logger,
  start: () => Promise<Closer[]>,
  options: { shutdownTimeoutMs?: number } = {},
): Promise<void> {
  let closers: Closer[];
  try {
    closers = await start();
  } catch (err) {
    logger.fatal({ err }, 'service failed to start');
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
    return;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, options.shutdownTimeoutMs ?? 10_000);
    timer.unref();
    void (async () => {
      for (const close of [...closers].reverse()) {
        try {
          await close();
        } catch (err) {
          logger.warn({ err }, 'error while closing');
        }
      }
      logger.info('stopped');
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
