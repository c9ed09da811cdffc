/**
 * An instance's settings and base URL checked against its connector definition before any
 * call: defaults filled in, required ones present, patterns matched. A bad setting is a
 * configuration fault of the connector (it goes OFFLINE), not of the tool call.
 */
import type { ConnectorDefinition, ConnectorInstance } from './types.js';

/** The instance with its base URL and settings resolved, or why it cannot be used. */
export type ResolvedInstance =
  | { ok: true; instance: ConnectorInstance; settings: Readonly<Record<string, string>> }
  | { ok: false; reason: string };

/** Resolves base URL and settings of an instance for its definition. */
export function resolveInstance(
  def: ConnectorDefinition,
  instance: ConnectorInstance,
): ResolvedInstance {
  const baseUrl = instance.baseUrl || def.defaultBaseUrl || '';
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    return {
      ok: false,
      reason: `the ${def.title} base URL "${baseUrl}" is not a URL (expected like ${def.baseUrlHint})`,
    };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return {
      ok: false,
      reason: `the ${def.title} base URL must be http(s), got "${parsed.protocol}"`,
    };
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash) {
    return {
      ok: false,
      reason: `the ${def.title} base URL must not carry credentials, a query or a fragment`,
    };
  }
  const settings: Record<string, string> = {};
  for (const setting of def.settings) {
    const value = instance.settings[setting.name] || setting.default;
    if (value === undefined || value === '') {
      if (setting.required)
        return { ok: false, reason: `the ${def.title} setting "${setting.name}" is required` };
      continue;
    }
    if (setting.pattern !== undefined && !new RegExp(setting.pattern).test(value)) {
      return {
        ok: false,
        reason: `the ${def.title} setting "${setting.name}" does not match ${setting.pattern}: "${value}"`,
      };
    }
    settings[setting.name] = value;
  }
  return { ok: true, instance: { ...instance, baseUrl }, settings };
}
