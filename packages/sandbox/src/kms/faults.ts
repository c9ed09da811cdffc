import { KmsError } from './errors.js';

/**
 * How the endpoint misbehaves on purpose:
 * - `none`: normal service;
 * - `down`: the socket is destroyed without a response (the SDK sees a connection reset);
 * - `unavailable`: HTTP 503 `ServiceUnavailableException`;
 * - `throttle`: HTTP 400 `ThrottlingException`, which the SDK classifies as throttling.
 */
export type FaultMode = 'none' | 'down' | 'unavailable' | 'throttle';

/** The fault currently in force. */
export interface FaultSettings {
  readonly mode: FaultMode;
  /** Delay added before each affected request is handled, in milliseconds. */
  readonly latencyMs: number;
  /** Operations affected (e.g. `["Decrypt"]`); null means all of them. */
  readonly operations: readonly string[] | null;
  /** Affected requests left before the fault clears itself; null means until changed. */
  readonly remaining: number | null;
}

/** A fault to set; omitted fields take their defaults (no fault, no latency, all, forever). */
export interface FaultInput {
  readonly mode?: FaultMode;
  readonly latencyMs?: number;
  readonly operations?: readonly string[] | null;
  readonly remaining?: number | null;
}

/** Fault switches of a running endpoint, settable in process or over `POST /__fault`. */
export interface KmsFaults {
  /** Replaces the fault in force; returns it. Throws on unknown modes or operation names. */
  set(input: FaultInput): FaultSettings;
  /** Back to normal service. */
  reset(): void;
  /** The fault in force. */
  current(): FaultSettings;
}

/** Fault switches plus the hook the request path uses to consume them. */
export interface FaultController extends KmsFaults {
  /** The fault to apply to one request for this operation, or undefined; counts `remaining`. */
  take(operation: string): FaultSettings | undefined;
}

const MODES: ReadonlySet<string> = new Set(['none', 'down', 'unavailable', 'throttle']);
const NORMAL: FaultSettings = { mode: 'none', latencyMs: 0, operations: null, remaining: null };
const MAX_LATENCY_MS = 10 * 60 * 1000;

function invalid(message: string): KmsError {
  return new KmsError('ValidationException', message);
}

function isFaultMode(value: unknown): value is FaultMode {
  return typeof value === 'string' && MODES.has(value);
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

/** A rejected value for an error message: objects and lists as JSON, not `[object Object]`. */
function shown(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** Checks untrusted fault input (e.g. an HTTP body) and fills in defaults. */
export function parseFaultInput(
  value: unknown,
  knownOperations: ReadonlySet<string>,
): FaultSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('fault must be a JSON object');
  }
  const fields: Partial<Record<keyof FaultInput, unknown>> = value;
  const { mode = 'none', latencyMs = 0, operations = null, remaining = null } = fields;
  if (!isFaultMode(mode)) {
    throw invalid(`fault mode "${shown(mode)}" is not one of none, down, unavailable, throttle`);
  }
  if (!isInteger(latencyMs) || latencyMs < 0 || latencyMs > MAX_LATENCY_MS) {
    throw invalid(
      `fault latencyMs "${shown(latencyMs)}" is not an integer in [0, ${MAX_LATENCY_MS}]`,
    );
  }
  if (remaining !== null && (!isInteger(remaining) || remaining < 1)) {
    throw invalid(`fault remaining "${shown(remaining)}" is not a positive integer or null`);
  }
  let names: string[] | null = null;
  if (operations !== null) {
    if (!Array.isArray(operations)) throw invalid('fault operations must be a list or null');
    const listed: readonly unknown[] = operations;
    const unknown = listed.find((name) => typeof name !== 'string' || !knownOperations.has(name));
    if (unknown !== undefined) throw invalid(`fault operation "${shown(unknown)}" is unknown`);
    names = listed.filter((name): name is string => typeof name === 'string');
  }
  return { mode, latencyMs, operations: names, remaining };
}

/** Creates fault switches for an endpoint implementing `knownOperations`. */
export function createFaultController(knownOperations: ReadonlySet<string>): FaultController {
  let settings = NORMAL;
  return {
    set(input) {
      settings = parseFaultInput(input, knownOperations);
      return settings;
    },
    reset() {
      settings = NORMAL;
    },
    current() {
      return settings;
    },
    take(operation) {
      if (settings.mode === 'none' && settings.latencyMs === 0) return undefined;
      if (settings.operations !== null && !settings.operations.includes(operation))
        return undefined;
      const applied = settings;
      if (applied.remaining !== null) {
        settings =
          applied.remaining > 1 ? { ...applied, remaining: applied.remaining - 1 } : NORMAL;
      }
      return applied;
    },
  };
}
