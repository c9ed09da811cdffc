import { fromBinary } from '@bufbuild/protobuf';
import { EventEnvelopeSchema, type EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type { Logger } from '@fortress/kit/log';
import type { AppendResult, OrgRows } from '../adapters/pg/chain-writer.js';
import { toAuditRow, type AuditRow } from '../domain/audit-row.js';
import { envelopeProblem } from '../domain/validate-envelope.js';
import { poisonReason } from './poison.js';

/** A message as ingestion sees it (a JetStream message satisfies it). */
export interface IngestMessage {
  subject: string;
  data: Uint8Array;
  ack(): void;
  nak(millis?: number): void;
}

/** What ingestion writes through. */
export interface IngestDeps {
  /** Appends one org's rows in one transaction (all or nothing). */
  append(orgId: string, rows: AuditRow[]): Promise<AppendResult>;
  /** Appends several orgs' rows in one transaction (all or nothing). */
  appendMany(batches: OrgRows[]): Promise<Map<string, AppendResult>>;
  /** Keeps an event that can never be a row. */
  reject(event: { subject: string; reason: string; payload: Uint8Array }): Promise<void>;
  /** Transactions (connections) a batch is written with at once; its orgs are spread over them. */
  concurrency: number;
  logger: Logger;
  onAppended?(orgId: string, result: AppendResult): void;
  onRejected?(reason: string): void;
}

/** How long a message waits before redelivery after a failure that may pass (database down). */
export const RETRY_DELAY_MS = 1000;

interface Item {
  msg: IngestMessage;
  row: AuditRow;
}

/**
 * Turns a batch of stream messages into audit rows: each org's messages chained in stream
 * order, the orgs spread over a few transactions written in parallel; acks each message only
 * after its transaction committed, naks it for redelivery when the database failed, and keeps
 * events that can never be rows in rejected_events. A row the database refuses as data (a
 * poison message) is isolated by retrying per org, then per message, so it cannot block others.
 */
export function createBatchIngest(deps: IngestDeps) {
  const keep = async (msg: IngestMessage, reason: string) => {
    try {
      await deps.reject({ subject: msg.subject, reason, payload: msg.data });
      deps.onRejected?.(reason);
      deps.logger.warn(
        { subject: msg.subject, reason },
        'kept an event that cannot be an audit row',
      );
      msg.ack();
    } catch (err) {
      deps.logger.warn({ err }, 'could not keep a rejected event; will retry');
      msg.nak(RETRY_DELAY_MS);
    }
  };

  const appendOne = async (orgId: string, item: Item) => {
    try {
      const result = await deps.append(orgId, [item.row]);
      deps.onAppended?.(orgId, result);
      item.msg.ack();
    } catch (err) {
      const reason = poisonReason(err);
      if (reason) return keep(item.msg, reason);
      item.msg.nak(RETRY_DELAY_MS);
    }
  };

  const appendOrg = async (orgId: string, items: Item[]) => {
    try {
      const result = await deps.append(
        orgId,
        items.map((i) => i.row),
      );
      deps.onAppended?.(orgId, result);
      for (const i of items) i.msg.ack();
    } catch (err) {
      if (poisonReason(err) && items.length > 1) {
        for (const i of items) await appendOne(orgId, i);
        return;
      }
      if (poisonReason(err)) return appendOne(orgId, items[0] as Item);
      deps.logger.warn({ err, orgId, count: items.length }, 'append failed; will be redelivered');
      for (const i of items) i.msg.nak(RETRY_DELAY_MS);
    }
  };

  return async (batch: IngestMessage[]): Promise<void> => {
    const byOrg = new Map<string, Item[]>();
    const rejects: Array<Promise<void>> = [];
    for (const msg of batch) {
      let envelope: EventEnvelope;
      try {
        envelope = fromBinary(EventEnvelopeSchema, msg.data);
      } catch {
        rejects.push(keep(msg, 'not an event envelope'));
        continue;
      }
      const problem = envelopeProblem(envelope);
      if (problem) {
        rejects.push(keep(msg, problem));
        continue;
      }
      const row = toAuditRow(envelope);
      byOrg.set(row.orgId, [...(byOrg.get(row.orgId) ?? []), { msg, row }]);
    }
    // Orgs spread over `concurrency` transactions, each writing its share in one commit. A
    // share that fails on data falls back to one transaction per org (and then per message),
    // so a poison row costs only its own org a slower path.
    const orgs = [...byOrg.keys()].sort();
    const shares = Array.from({ length: Math.min(deps.concurrency, orgs.length) }, (_, i) =>
      orgs.filter((_, j) => j % deps.concurrency === i),
    );
    const workers = shares.map(async (share) => {
      const items = share.flatMap((orgId) => byOrg.get(orgId) ?? []);
      try {
        const results = await deps.appendMany(
          share.map((orgId) => ({ orgId, rows: (byOrg.get(orgId) ?? []).map((i) => i.row) })),
        );
        for (const [orgId, result] of results) deps.onAppended?.(orgId, result);
        for (const i of items) i.msg.ack();
      } catch (err) {
        if (poisonReason(err) && share.length > 1) {
          for (const orgId of share) await appendOrg(orgId, byOrg.get(orgId) ?? []);
          return;
        }
        if (poisonReason(err)) return appendOrg(share[0] ?? '', items);
        deps.logger.warn(
          { err, orgs: share.length, count: items.length },
          'append failed; will be redelivered',
        );
        for (const i of items) i.msg.nak(RETRY_DELAY_MS);
      }
    });
    await Promise.all([...rejects, ...workers]);
  };
}
