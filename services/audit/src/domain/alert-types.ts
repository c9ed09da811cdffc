import { typeFilter } from './type-filter.js';

/** The notifications that raise an alert email (feature S9, product P5). */
export const ALERT_TYPES = [
  'pat.spend_threshold_reached',
  'pat.spend_cap_reached',
  'user.overage',
  'credential.expiring',
  'anomaly.detected',
] as const;

/** One of the alert types. */
export type AlertType = (typeof ALERT_TYPES)[number];

const KNOWN = new Set<string>(ALERT_TYPES);

/** True when `type` is an alert type. */
export function isAlertType(type: string): type is AlertType {
  return KNOWN.has(type);
}

/** Validates a list of alert types: known types, each once, sorted. Empty means every type. */
export function alertTypeFilter(field: string, types: readonly string[]): AlertType[] {
  return typeFilter(field, types, ALERT_TYPES);
}
