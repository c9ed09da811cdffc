import { create } from '@bufbuild/protobuf';
import { TimestampSchema, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  SummarizeUsageResponseSchema,
  type SummarizeUsageRequest,
  type SummarizeUsageResponse,
} from '@fortress/proto/audit/v1/audit_pb';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { requireId } from '@fortress/kit/validate';
import type { UsageRepo } from '../adapters/pg/usage-repo.js';
import {
  isoMicros,
  microsOf,
  monthStartUtc,
  totalOf,
  type UsageWindow,
} from '../domain/pat-usage.js';
import { MAX_SECONDS } from '../domain/validate-envelope.js';

/** A requested bound in microseconds (finer is dropped: PostgreSQL keeps no more). */
function micros(field: 'since' | 'until', t: Timestamp): bigint {
  if (t.seconds < 0n || t.seconds > MAX_SECONDS || t.nanos < 0 || t.nanos > 999_999_999)
    throw new InvalidArgumentError(
      field,
      `${field} must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z, got ${t.seconds} seconds and ${t.nanos} nanoseconds`,
    );
  return t.seconds * 1_000_000n + BigInt(Math.floor(t.nanos / 1000));
}

/** A bound of a summarised window, as the response states it. */
export const timestampOf = (us: bigint): Timestamp =>
  create(TimestampSchema, { seconds: us / 1_000_000n, nanos: Number(us % 1_000_000n) * 1000 });

/**
 * The window of a usage request: since inclusive, until exclusive; unset, the calendar month
 * (UTC) of `now` so far — the month a PAT key's spend cap covers.
 */
export function usageWindow(
  req: { since?: Timestamp | undefined; until?: Timestamp | undefined },
  now: Date,
): UsageWindow {
  const untilUs = req.until ? micros('until', req.until) : microsOf(now);
  const sinceUs = req.since ? micros('since', req.since) : microsOf(monthStartUtc(now));
  if (sinceUs >= untilUs)
    throw new InvalidArgumentError(
      'since',
      `since (${isoMicros(sinceUs)}) must be before until (${isoMicros(untilUs)})`,
    );
  return { sinceUs, untilUs };
}

/** The SummarizeUsage handler: one PAT key's usage in total and per model, and its denies. */
export function createSummarizeUsage(repo: UsageRepo, now: () => Date) {
  return async function summarizeUsage(
    req: SummarizeUsageRequest,
  ): Promise<SummarizeUsageResponse> {
    const orgId = requireId('org_id', req.orgId, 'org');
    const patKeyId = requireId('pat_key_id', req.patKeyId, 'pat');
    const window = usageWindow(req, now());
    const usage = await repo.summarize({ orgId, patKeyId, ...window });
    const total = totalOf(usage.models);
    return create(SummarizeUsageResponseSchema, {
      since: timestampOf(window.sinceUs),
      until: timestampOf(window.untilUs),
      requests: total.requests,
      usage: total.tokens,
      spendMicrousd: total.spendMicrousd,
      models: usage.models.map((m) => ({
        model: m.model,
        requests: m.requests,
        usage: m.tokens,
        spendMicrousd: m.spendMicrousd,
      })),
      denied: usage.denied,
    });
  };
}
