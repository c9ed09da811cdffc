import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from './log.js';

/** A NATS connection that reconnects forever, and whether it is connected right now. */
export interface TrackedConnection {
  nc: NatsConnection;
  connected: () => boolean;
}

/** Connects to NATS (reconnecting forever) and tracks the connection's state, logging changes. */
export async function connectNats(
  url: string,
  name: string,
  logger: Logger,
): Promise<TrackedConnection> {
  const nc = await connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // Every JetStream publish is a request; with async traces on, each one captures a stack
    // for an error it almost never throws (~0.15 ms of CPU per publish on the request path).
    // Failures still say what failed (timeout, no responders); only the caller's stack goes.
    noAsyncTraces: true,
  });
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      if (s.type === 'reconnect') connected = true;
      if (s.type === 'disconnect' || s.type === 'reconnect')
        logger.warn({ nats: s.type, name }, 'nats connection status');
    }
  })();
  return { nc, connected: () => connected && !nc.isClosed() };
}
