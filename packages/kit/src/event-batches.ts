import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Logger } from './log.js';
import { connectNats } from './nats-connection.js';
import type { Telemetry } from './telemetry.js';

const NANOS_PER_MS = 1_000_000;

/** A durable consumer that hands messages over in batches. */
export interface BatchConsumerOptions {
  url: string;
  service: string;
  logger: Logger;
  telemetry: Telemetry;
  stream: string;
  durable: string;
  filterSubject?: string;
  /** The most messages handed over at once. */
  maxBatch: number;
  /** Unacknowledged messages the server lets this durable have out (set when it is created). */
  maxAckPending?: number;
  /**
   * Handles a batch and settles each message itself (ack after its effect is durable, nak to
   * have it redelivered). If it throws, every message it did not settle is nak'ed.
   */
  handle: (batch: JsMsg[]) => Promise<void>;
}

/** A running batch consumer. */
export interface BatchConsumer {
  /** True while connected to the server. */
  ready(): Promise<boolean>;
  /** Messages not yet delivered, and delivered but not yet acknowledged (the consumer's lag). */
  lag(): Promise<{ pending: number; ackPending: number }>;
  /** Stops taking messages, lets the batch in hand finish, then disconnects. */
  close(): Promise<void>;
}

/**
 * Creates the durable pull consumer unless it exists (explicit acks, redelivered forever); an
 * existing one gets the asked-for limit of unacknowledged messages (batches grow to it).
 */
export async function ensureDurable(
  jsm: JetStreamManager,
  o: { stream: string; durable: string; filterSubject?: string; maxAckPending?: number },
): Promise<void> {
  const info = await jsm.consumers.info(o.stream, o.durable).catch(() => undefined);
  if (info) {
    if (o.maxAckPending && info.config.max_ack_pending !== o.maxAckPending)
      await jsm.consumers.update(o.stream, o.durable, { max_ack_pending: o.maxAckPending });
    return;
  }
  await jsm.consumers.add(o.stream, {
    durable_name: o.durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: 30_000 * NANOS_PER_MS,
    max_deliver: -1,
    ...(o.maxAckPending ? { max_ack_pending: o.maxAckPending } : {}),
    ...(o.filterSubject ? { filter_subject: o.filterSubject } : {}),
  });
}

/**
 * Consumes a durable JetStream consumer in batches: whatever has arrived while the previous
 * batch was being handled (up to `maxBatch`) is the next batch, so batches grow with load and
 * a lone message waits for nothing. For writers that commit many messages in one transaction
 * and ack them all after the commit. Uses its own connection, reconnecting forever.
 */
export async function startBatchConsumer(o: BatchConsumerOptions): Promise<BatchConsumer> {
  const { nc, connected } = await connectNats(o.url, `fortress-${o.service}-batches`, o.logger);
  const jsm = await jetstreamManager(nc);
  await ensureDurable(jsm, o);
  const consumer = await jetstream(nc).consumers.get(o.stream, o.durable);
  const messages = await consumer.consume({ max_messages: o.maxBatch * 2 });

  const queue: JsMsg[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let closing = false;
  void (async () => {
    for await (const msg of messages) {
      queue.push(msg);
      wake?.();
    }
    ended = true;
    wake?.();
  })();

  // One consumer span per message, in the trace of the request that published it (one trace
  // per request across every hop), lasting while its batch is handled.
  const spanOf = (msg: JsMsg, size: number) =>
    o.telemetry.tracer.startSpan(
      `consume ${o.stream}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.destination.name': msg.subject,
          'messaging.batch.message_count': size,
        },
      },
      propagation.extract(context.active(), msg.headers, {
        get: (carrier, key) => carrier?.get(key) || undefined,
        keys: (carrier) => carrier?.keys() ?? [],
      }),
    );

  const handleBatch = async (batch: JsMsg[]) => {
    const spans = batch.map((msg) => spanOf(msg, batch.length));
    try {
      await o.handle(batch);
    } catch (err) {
      for (const span of spans) span.setStatus({ code: SpanStatusCode.ERROR });
      o.logger.error({ err, count: batch.length }, 'batch handling failed; will be redelivered');
      // A message already acked ignores the nak (the client tracks what it settled).
      for (const msg of batch) msg.nak(1000);
    } finally {
      for (const span of spans) span.end();
    }
  };

  const loop = (async () => {
    for (;;) {
      if (closing) return;
      if (queue.length === 0) {
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      await handleBatch(queue.splice(0, o.maxBatch));
    }
  })();

  return {
    ready: () => Promise.resolve(connected()),
    async lag() {
      const info = await jsm.consumers.info(o.stream, o.durable);
      return { pending: info.num_pending, ackPending: info.num_ack_pending };
    },
    async close() {
      closing = true;
      await messages.close();
      wake?.();
      await loop;
      // Messages pulled but never handed over go back to the server for redelivery.
      for (const msg of queue.splice(0)) msg.nak();
      await nc.drain().catch(() => nc.close());
    },
  };
}
