import type { JsonObject } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { envelope } from '@fortress/kit/event-bus';
import type { Logger } from '@fortress/kit/log';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type { ActivityRepo, AnomalyRecord } from '../adapters/pg/activity-repo.js';
import type { AlertSettingsRepo } from '../adapters/pg/alert-settings-repo.js';
import { anomalyParams, defaultSettings, type AnomalyParams } from '../domain/alert-settings.js';
import { detect, HISTORY_HOURS, hourOf, type Finding } from '../domain/anomaly.js';
import { nameUuid } from '../domain/name-uuid.js';

const HOUR_MS = 3600_000;
const round = (n: number) => Math.round(n * 100) / 100;

/** What the anomaly job uses. */
export interface AnomalyJobOptions {
  activity: ActivityRepo;
  settings: Pick<AlertSettingsRepo, 'get'>;
  /** Publishes a notification; resolves once the stream has stored it. */
  publish: (env: EventEnvelope) => Promise<void>;
  intervalMs: number;
  /** Log rows rolled up per transaction. */
  batch?: number;
  logger: Logger;
  now?: () => Date;
}

/** The notification data of a finding: the figures and the explanation. */
export function anomalyData(f: Finding, p: AnomalyParams): JsonObject {
  return {
    subjectId: f.subjectId,
    hour: f.hour.toISOString(),
    requests: f.counts.requests,
    denies: f.counts.denies,
    requestsMean: round(f.baselines.requests.mean),
    requestsStddev: round(f.baselines.requests.stddev),
    deniesMean: round(f.baselines.denies.mean),
    deniesStddev: round(f.baselines.denies.stddev),
    flagged: f.signals.map((s) => s.metric),
    stddevMultiplier: p.k,
    minRequests: p.minRequests,
    minDenies: p.minDenies,
    historyHours: HISTORY_HOURS,
    explanation: f.explanation,
  };
}

/**
 * Anomaly detection, a periodic job over every org's log: it rolls up new decisions into
 * hourly counts per user, then compares the current and the previous hour of each busy user
 * with that user's own previous 7 days (anomaly.ts says how), records what it finds — at most
 * one anomaly per (user, hour), with an event id derived from the three — and publishes
 * `anomaly.detected` for each until the stream acks it. Publishing again is harmless: the
 * event id makes it the same event for the log, the webhooks and the alert emails.
 */
export function createAnomalyJob(o: AnomalyJobOptions) {
  const now = o.now ?? (() => new Date());
  const batch = o.batch ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function scanOrg(orgId: string, at: Date): Promise<number> {
    const since = new Date(hourOf(at).getTime() - (HISTORY_HOURS + 1) * HOUR_MS);
    while ((await o.activity.rollUp(orgId, since, batch)) > 0);
    const p = anomalyParams(((await o.settings.get(orgId)) ?? defaultSettings(orgId)).anomaly);
    if (!p.disabled) {
      const current = hourOf(at);
      const hours = [new Date(current.getTime() - HOUR_MS), current];
      const found: AnomalyRecord[] = [];
      for (const busy of await o.activity.busyHours(orgId, hours, p)) {
        const from = new Date(busy.hour.getTime() - HISTORY_HOURS * HOUR_MS);
        const history = await o.activity.history(orgId, busy.subjectId, from, busy.hour);
        const f = detect(busy.subjectId, busy.hour, busy, history, p);
        if (f)
          found.push({
            subjectId: f.subjectId,
            hour: f.hour,
            eventId: nameUuid('anomaly.detected', orgId, f.subjectId, f.hour.toISOString()),
            data: anomalyData(f, p),
          });
      }
      await o.activity.record(orgId, found);
    }
    let published = 0;
    for (const a of await o.activity.unpublished(orgId)) {
      await o.publish(
        envelope({
          eventId: a.eventId,
          orgId,
          occurredAt: timestampFromDate(a.foundAt),
          source: 'audit',
          payload: { case: 'notification', value: { type: 'anomaly.detected', data: a.data } },
        }),
      );
      await o.activity.published(orgId, a.eventId);
      published++;
    }
    await o.activity.prune(orgId, since);
    return published;
  }

  /** One pass over every org; how many anomalies it published. An org that fails is retried next run. */
  async function scan(): Promise<number> {
    const at = now();
    let published = 0;
    for (const orgId of await o.activity.orgs()) {
      try {
        published += await scanOrg(orgId, at);
      } catch (err) {
        o.logger.warn({ err, orgId }, 'anomaly detection failed for an org; will retry');
      }
    }
    if (published) o.logger.info({ published }, 'anomalies published');
    return published;
  }

  /** One run (runs never overlap). */
  const run = (): Promise<number> => (running ??= scan().finally(() => (running = undefined)));

  return {
    run,
    start() {
      timer = setInterval(() => {
        run().catch((err: unknown) => o.logger.warn({ err }, 'anomaly detection failed'));
      }, o.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

/** The anomaly job. */
export type AnomalyJob = ReturnType<typeof createAnomalyJob>;
