import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import type { AlertType } from './alert-types.js';
import { nameUuid } from './name-uuid.js';

/** A notification that raises an alert. */
export interface AlertNotification {
  orgId: string;
  eventId: string;
  type: AlertType;
  occurredAt: Date;
  data: JsonObject;
}

/** The email of an alert: its id (the unit of deduplication) and what it says. */
export interface AlertEmail {
  /** The event id, or for alerts sent once per period an id derived from the period. */
  alertId: string;
  subject: string;
  body: string;
}

const DAY_MS = 24 * 3600_000;

/**
 * Notification data is another service's output: shown as plain text of bounded length with
 * no control characters (a CR or LF could not then add a header line to the subject).
 */
function text(v: JsonValue | undefined, max = 120): string {
  if (v === undefined || v === null) return '';
  const s = (typeof v === 'string' ? v : JSON.stringify(v)).replace(/\p{Cc}/gu, ' ').trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** A figure from the data, or undefined when it is not a finite number. */
function num(v: JsonValue | undefined): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Micro-dollars as dollars and cents. */
function dollars(micro: number): string {
  return `$${(micro / 1e6).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** "2026-11-22 14:03 UTC". */
function when(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The PAT key of a spend rule id ("pat/<key>/spend"), when the data names none itself. */
function patKeyOf(data: JsonObject): string {
  const direct = text(data['patKeyId']);
  if (direct) return direct;
  const m = /^pat\/([^/]+)\//.exec(text(data['ruleId']));
  return m?.[1] ?? 'unknown';
}

interface Rendered {
  /** Parts of the period key, for alerts sent at most once per period. */
  once?: string[];
  headline: string;
  details: string[];
}

function render(n: AlertNotification): Rendered {
  const d = n.data;
  switch (n.type) {
    case 'pat.spend_threshold_reached': {
      const key = patKeyOf(d);
      const pct = num(d['thresholdPercent']);
      const cap = num(d['spendCapMicrousd']);
      const share = pct === undefined ? 'its alert threshold' : `${pct}%`;
      return {
        headline: `PAT key ${key} reached ${share} of its monthly spend cap${cap === undefined ? '' : ` of ${dollars(cap)}`}`,
        details: [
          `Spend of PAT key ${key} this month (UTC) has passed ${share} of its cap${cap === undefined ? '' : ` (${dollars(cap)})`}.`,
          'Requests are still allowed; once the cap is reached they are denied until the month ends or the cap is raised.',
        ],
      };
    }
    case 'pat.spend_cap_reached': {
      const key = patKeyOf(d);
      const day = n.occurredAt.toISOString().slice(0, 10);
      return {
        once: [key, day],
        headline: `PAT key ${key} reached its monthly spend cap; its requests are denied`,
        details: [
          `Requests made with PAT key ${key} are denied: its monthly spend cap is reached.`,
          'They are allowed again when the month ends (UTC) or the cap is raised.',
          `This alert is sent at most once a day per key (UTC day ${day}).`,
        ],
      };
    }
    case 'user.overage': {
      const who = text(d['subjectId']) || 'a caller';
      const rule = text(d['ruleId']) || 'a rate limit';
      const hour = n.occurredAt.toISOString().slice(0, 13);
      return {
        once: [who, rule, hour],
        headline: `${who} exceeded a rate limit (${rule})`,
        details: [
          `Requests by ${who} were denied because they exceeded ${rule}.`,
          'This alert is sent at most once an hour per user and rule.',
        ],
      };
    }
    case 'credential.expiring': {
      const id = text(d['credential_id']) || 'unknown';
      const label = text(d['label']);
      const kind = text(d['kind']).replace(/_/g, ' ');
      const version = num(d['version']);
      const expires = new Date(text(d['expires_at']));
      const known = !Number.isNaN(expires.getTime());
      // To the nearest day: a notice sent 7 days ahead, a few seconds late, still says 7.
      const days = known
        ? Math.round((expires.getTime() - n.occurredAt.getTime()) / DAY_MS)
        : undefined;
      const name = label ? `"${label}" (${id})` : id;
      const inDays =
        days === undefined
          ? 'soon'
          : days <= 0
            ? 'within a day'
            : days === 1
              ? 'in 1 day'
              : `in ${days} days`;
      return {
        headline: `Credential ${name} expires ${inDays}`,
        details: [
          `Credential ${name}${version === undefined ? '' : `, version ${version}`}${kind ? `, ${kind}` : ''}, expires ${known ? `on ${when(expires)}` : 'soon'}.`,
          'Rotate it before then: once it has expired, requests that need it are refused.',
        ],
      };
    }
    case 'anomaly.detected': {
      const who = text(d['subjectId']) || 'a user';
      const requests = num(d['requests']);
      const denies = num(d['denies']);
      const flagged = Array.isArray(d['flagged']) ? d['flagged'].map((f) => text(f)) : [];
      const what =
        flagged[0] === 'denies' && denies !== undefined
          ? `had ${denies} requests denied in an hour`
          : requests !== undefined
            ? `made ${requests} requests in an hour`
            : 'showed unusual activity';
      return {
        headline: `Unusual activity: ${who} ${what}`,
        details: [text(d['explanation'], 1200), 'Check whether this activity is expected.'],
      };
    }
  }
}

/**
 * The email of an alert: a clear subject, a plain-text body, built only from the
 * notification's metadata fields known for its type (anything else in the data, whatever it
 * holds, is never shown). Alerts whose notification repeats for every request (a spend cap
 * reached, an overage) get an id derived from the key or user and the day or hour, so one
 * email covers the period.
 */
export function alertEmailOf(n: AlertNotification): AlertEmail {
  const r = render(n);
  const body = [
    r.headline + '.',
    '',
    ...r.details,
    '',
    `Organization: ${n.orgId}`,
    `Alert: ${n.type}`,
    `Time: ${when(n.occurredAt)}`,
    `Event id: ${n.eventId}`,
    '',
    '-- ',
    `You receive this as an alert recipient of ${n.orgId} in Fortress; the org's admins choose the recipients and alert types in its alert settings.`,
    '',
  ].join('\n');
  return {
    alertId: r.once ? nameUuid('alert', n.type, n.orgId, ...r.once) : n.eventId,
    subject: `[Fortress] ${r.headline}`,
    body,
  };
}
