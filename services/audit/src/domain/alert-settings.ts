import { InvalidArgumentError } from '@fortress/kit/errors';
import { clip } from '@fortress/kit/validate';
import { alertTypeFilter, type AlertType } from './alert-types.js';

/** How sensitive anomaly detection is (see anomaly.ts); a missing value means the default. */
export interface AnomalyParams {
  disabled: boolean;
  /** Standard deviations above the mean that count as anomalous. */
  k: number;
  /** The fewest requests in an hour that can be anomalous. */
  minRequests: number;
  /** The fewest denied requests in an hour that can be anomalous. */
  minDenies: number;
}

/** The defaults: 4σ, at least 50 requests or 20 denies in the hour. */
export const ANOMALY_DEFAULTS: AnomalyParams = {
  disabled: false,
  k: 4,
  minRequests: 50,
  minDenies: 20,
};

/** An org's alert settings as stored; undefined numbers take the defaults. */
export interface AlertSettings {
  orgId: string;
  recipients: string[];
  /** Empty: every type. */
  types: AlertType[];
  anomaly: { disabled: boolean; k?: number; minRequests?: number; minDenies?: number };
  updatedAt?: Date;
}

/** At most this many recipients per org. */
export const MAX_RECIPIENTS = 20;

// A pragmatic address check (RFC 5321 sizes, one @, a dotted domain, no spaces, quotes,
// angle brackets or commas): what an admin types, not every address RFC 5322 allows.
const ADDRESS =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Validates recipients: addresses, each once (case-insensitively), in the order given. */
export function recipientList(field: string, values: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const raw of values) {
    const v = raw.trim();
    if (v.length > 254 || !ADDRESS.test(v))
      throw new InvalidArgumentError(
        field,
        `${field} has "${clip(raw)}", which is not an email address`,
      );
    if (!seen.has(v.toLowerCase())) seen.set(v.toLowerCase(), v);
  }
  if (seen.size > MAX_RECIPIENTS)
    throw new InvalidArgumentError(field, `${field} may have at most ${MAX_RECIPIENTS} addresses`);
  return [...seen.values()];
}

/** Anomaly settings as a caller sends them: 0 for "the default". */
export interface AnomalyInput {
  disabled: boolean;
  stddevMultiplier: number;
  minRequests: number;
  minDenies: number;
}

/** Validates anomaly settings; zeros become undefined (the default). */
export function anomalySettings(
  field: string,
  a: AnomalyInput | undefined,
): AlertSettings['anomaly'] {
  if (!a) return { disabled: false };
  const k = a.stddevMultiplier;
  if (k !== 0 && !(Number.isFinite(k) && k >= 1 && k <= 20))
    throw new InvalidArgumentError(
      `${field}.stddev_multiplier`,
      `${field}.stddev_multiplier must be between 1 and 20 (or 0 for the default), got ${k}`,
    );
  const max = 1_000_000;
  for (const [name, v] of [
    ['min_requests', a.minRequests],
    ['min_denies', a.minDenies],
  ] as const)
    if (v > max)
      throw new InvalidArgumentError(`${field}.${name}`, `${field}.${name} must be at most ${max}`);
  return {
    disabled: a.disabled,
    ...(k ? { k } : {}),
    ...(a.minRequests ? { minRequests: a.minRequests } : {}),
    ...(a.minDenies ? { minDenies: a.minDenies } : {}),
  };
}

/** Validates a whole settings change. */
export function alertSettingsOf(
  orgId: string,
  input: { recipients: readonly string[]; types: readonly string[]; anomaly?: AnomalyInput },
): AlertSettings {
  return {
    orgId,
    recipients: recipientList('email_recipients', input.recipients),
    types: alertTypeFilter('email_types', input.types),
    anomaly: anomalySettings('anomaly', input.anomaly),
  };
}

/** The settings of an org that never set any. */
export function defaultSettings(orgId: string): AlertSettings {
  return { orgId, recipients: [], types: [], anomaly: { disabled: false } };
}

/** The anomaly parameters in force, defaults filled in. */
export function anomalyParams(s: AlertSettings['anomaly']): AnomalyParams {
  return {
    disabled: s.disabled,
    k: s.k ?? ANOMALY_DEFAULTS.k,
    minRequests: s.minRequests ?? ANOMALY_DEFAULTS.minRequests,
    minDenies: s.minDenies ?? ANOMALY_DEFAULTS.minDenies,
  };
}

/** True when settings say to email alerts of `type` (someone to send to, and the type wanted). */
export function wantsEmail(s: AlertSettings, type: AlertType): boolean {
  return s.recipients.length > 0 && (s.types.length === 0 || s.types.includes(type));
}
