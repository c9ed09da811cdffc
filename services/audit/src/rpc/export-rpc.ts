import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import {
  ExportFormat,
  ExportResponseSchema,
  type ExportRequest,
  type ExportResponse,
} from '@fortress/proto/audit/v1/audit_pb';
import { InvalidArgumentError, toConnectError } from '@fortress/kit/errors';
import type { Logger } from '@fortress/kit/log';
import type { AuditFilter } from '../adapters/pg/audit-store.js';
import type { AuditStore } from '../adapters/pg/audit-store.js';
import { csvHeader, csvLine, jsonLine } from '../domain/export-format.js';
import { toRecord } from './audit-record.js';
import { filterOf } from './request-filter.js';

/** Rows read (and sent) per chunk: bounded memory whatever the export's size. */
export const EXPORT_PAGE = 1000;

/**
 * The Export handler: the org's records oldest first in chain order, filtered, read a page
 * at a time and sent as whole lines per chunk. Each page is its own short transaction (keyset
 * on the chain position), so a long export holds no snapshot open; rows appended meanwhile
 * are included, rows deleted by retention meanwhile are not. The request is validated before
 * the stream starts (so the error boundary maps it); a failure while streaming is logged and
 * sent as a safe status, as the boundary would.
 */
export function createExport(store: AuditStore, logger?: Logger) {
  return function exportRecords(
    req: ExportRequest,
    ctx: HandlerContext,
  ): AsyncIterable<ExportResponse> {
    const filter = filterOf(req);
    if (req.format !== ExportFormat.CSV && req.format !== ExportFormat.JSON_LINES)
      throw new InvalidArgumentError(
        'format',
        'format must be EXPORT_FORMAT_CSV or EXPORT_FORMAT_JSON_LINES',
      );
    return stream(store, filter, req.format, ctx.signal, logger);
  };
}

async function* stream(
  store: AuditStore,
  filter: Omit<AuditFilter, 'limit'>,
  format: ExportFormat,
  signal: AbortSignal,
  logger?: Logger,
): AsyncGenerator<ExportResponse> {
  const line = format === ExportFormat.CSV ? csvLine : jsonLine;
  let header = format === ExportFormat.CSV ? csvHeader() : '';
  let after = '';
  try {
    for (;;) {
      signal.throwIfAborted();
      const rows = await store.chronological({
        ...filter,
        limit: EXPORT_PAGE,
        ...(after ? { afterOrgSeq: after } : {}),
      });
      const text = header + rows.map((r) => line(toRecord(r))).join('');
      header = '';
      if (text) yield create(ExportResponseSchema, { data: Buffer.from(text, 'utf8') });
      const last = rows.at(-1);
      if (rows.length < EXPORT_PAGE || !last) return;
      after = last.org_seq;
    }
  } catch (err) {
    if (!signal.aborted) logger?.error({ err, orgId: filter.orgId }, 'export failed');
    throw toConnectError(err);
  }
}
