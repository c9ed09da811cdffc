import { create, toBinary, fromBinary } from '@bufbuild/protobuf';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  StorageType,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { EventEnvelopeSchema, type EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type { Logger } from './log.js';
import { connectNats } from './nats-connection.js';
import type { Telemetry } from './telemetry.js';

/** The stream every audit event goes to; subjects `audit.<org>.<kind>`. */
export const AUDIT_STREAM = 'FORTRESS_AUDIT';

const NANOS_PER_MS = 1_000_000;

/** Options to connect to NATS. */
export interface EventBusOptions {
  url: string;
  service: string;
  logger: Logger;
  telemetry: Telemetry;
}

/** A JetStream connection that publishes and consumes Fortress event envelopes. */
export interface EventBus {
  /**
   * Publishes an envelope and resolves once JetStream has stored it (the ack). Rejects when
   * no ack arrives within `timeoutMs` — the caller must then fail closed.
   */
  publish: (envelope: EventEnvelope, timeoutMs: number) => Promise<void>;
  /** Runs `handle` for every message of a durable consumer until closed; acks after success. */
  consume: (options: ConsumeOptions) => Promise<void>;
  /**
   * Announces something to every subscriber now (core NATS, at most once): for cache
   * invalidation, where a missed message is covered by a freshness bound, never for records.
   */
  broadcast: (subject: string, data: Uint8Array) => void;
  /** Receives broadcasts on a subject until closed. */
  subscribe: (subject: string, handle: (data: Uint8Array) => void) => void;
  /** True when connected to the server. */
  ready: () => Promise<boolean>;
  close: () => Promise<void>;
}

/** A durable consumer of envelopes. */
export interface ConsumeOptions {
  stream: string;
  durable: string;
  filterSubject?: string;
  /**
   * Where a consumer created now starts: "all" (the default: everything the stream retains,
   * for consumers that must see every record) or "new" (only what is published from now on,
   * for a consumer added to a stream that already holds history it has no use for).
   */
  startFrom?: 'all' | 'new';
  /** Handles one envelope; throwing leaves it unacked so it is redelivered. */
  handle: (envelope: EventEnvelope, msg: JsMsg) => Promise<void>;
  /** Keeps a message that is not an envelope at all; it is acked once kept (never retried). */
  reject: (msg: JsMsg, reason: string) => Promise<void>;
}

/** The subject of an envelope: `audit.<org>.<kind>`. */
export function subjectOf(envelope: EventEnvelope): string {
  return `audit.${envelope.orgId || '_system'}.${envelope.payload.case ?? 'unknown'}`;
}

/** Creates the streams Fortress uses if they do not exist (file storage, dedup window). */
async function ensureStreams(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: AUDIT_STREAM,
    subjects: ['audit.>'],
    storage: StorageType.File,
    duplicate_window: 10 * 60 * 1000 * NANOS_PER_MS,
    max_age: 30 * 24 * 3600 * 1000 * NANOS_PER_MS,
  };
  try {
    await jsm.streams.info(AUDIT_STREAM);
  } catch {
    await jsm.streams.add(config);
  }
}

/** Connects to NATS (reconnecting forever) and makes sure the streams exist. */
export async function connectEventBus(options: EventBusOptions): Promise<EventBus> {
  const { logger, telemetry } = options;
  const { nc, connected } = await connectNats(options.url, `fortress-${options.service}`, logger);
  await ensureStreams(nc);
  const js: JetStreamClient = jetstream(nc);
  const consumers: Array<{ close(): Promise<void | Error> }> = [];

  return {
    async publish(envelope, timeoutMs) {
      const subject = subjectOf(envelope);
      const span = telemetry.tracer.startSpan(`publish ${AUDIT_STREAM}`, {
        kind: SpanKind.PRODUCER,
        attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject },
      });
      const h = headers();
      propagation.inject(trace.setSpan(context.active(), span), h, {
        set: (carrier, key, value) => carrier.set(key, value),
      });
      try {
        await js.publish(subject, toBinary(EventEnvelopeSchema, envelope), {
          msgID: envelope.eventId,
          headers: h,
          timeout: timeoutMs,
        });
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    },

    async consume({ stream, durable, filterSubject, startFrom, handle, reject }) {
      const jsm = await jetstreamManager(nc);
      try {
        await jsm.consumers.info(stream, durable);
      } catch {
        await jsm.consumers.add(stream, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          ack_wait: 30_000 * NANOS_PER_MS,
          max_deliver: -1,
          ...(startFrom === 'new' ? { deliver_policy: DeliverPolicy.New } : {}),
          ...(filterSubject ? { filter_subject: filterSubject } : {}),
        });
      }
      const consumer = await js.consumers.get(stream, durable);
      const messages = await consumer.consume({ max_messages: 256 });
      consumers.push(messages);
      void (async () => {
        for await (const msg of messages) {
          const parent = propagation.extract(context.active(), msg.headers, {
            get: (carrier, key) => carrier?.get(key) || undefined,
            keys: (carrier) => carrier?.keys() ?? [],
          });
          const span = telemetry.tracer.startSpan(
            `consume ${stream}`,
            {
              kind: SpanKind.CONSUMER,
              attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject },
            },
            parent,
          );
          try {
            let envelope: EventEnvelope | undefined;
            try {
              envelope = fromBinary(EventEnvelopeSchema, msg.data);
            } catch {
              await reject(msg, 'not an event envelope');
            }
            if (envelope)
              await context.with(trace.setSpan(parent, span), () => handle(envelope, msg));
            msg.ack();
          } catch (err) {
            span.setStatus({ code: SpanStatusCode.ERROR });
            logger.error(
              { err, subject: msg.subject, seq: msg.seq },
              'event handling failed; will be redelivered',
            );
            msg.nak(1000);
          } finally {
            span.end();
          }
        }
      })();
    },

    broadcast(subject, data) {
      nc.publish(subject, data);
    },

    subscribe(subject, handle) {
      const sub = nc.subscribe(subject);
      consumers.push({ close: () => Promise.resolve(sub.unsubscribe()) });
      void (async () => {
        for await (const msg of sub) {
          try {
            handle(msg.data);
          } catch (err) {
            logger.error({ err, subject }, 'broadcast handler failed');
          }
        }
      })();
    },

    ready: () => Promise.resolve(connected()),

    async close() {
      for (const c of consumers) await c.close();
      await nc.drain().catch(() => nc.close());
    },
  };
}

/** Builds an envelope with a fresh event id. */
export function envelope(
  init: Parameters<typeof create<typeof EventEnvelopeSchema>>[1],
): EventEnvelope {
  return create(EventEnvelopeSchema, { eventId: crypto.randomUUID(), ...init });
}
