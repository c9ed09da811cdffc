import { createHash, type Hash } from 'node:crypto';
import type { MessageRequest } from './message-request.js';
import { isObject, type JsonObject } from './wire-types.js';

/** A point in the prompt: the tokens before it and a fingerprint of everything before it. */
export interface PromptBoundary {
  readonly tokens: number;
  readonly fingerprint: string;
}

/** A `cache_control` breakpoint, with the earlier boundaries the cache looks back over. */
export interface CacheBreakpoint extends PromptBoundary {
  readonly ttl: '5m' | '1h';
  /** Up to {@link LOOKBACK_UNITS} earlier boundaries, nearest first. */
  readonly lookback: readonly PromptBoundary[];
}

/** The input-token estimate of a request and where its cache breakpoints fall. */
export interface InputEstimate {
  readonly total: number;
  readonly breakpoints: readonly CacheBreakpoint[];
}

/** One stretch of the prompt in order (tools, system, messages) with its token count. */
interface Unit {
  readonly tokens: number;
  readonly key: string;
  readonly cacheControl: unknown;
}

const REQUEST_OVERHEAD = 4;
const MESSAGE_OVERHEAD = 3;
const IMAGE_TOKENS = 1600;
/** The real API checks for hits at up to 20 block boundaries before each breakpoint. */
export const LOOKBACK_UNITS = 20;

/** About four characters per token, the rule of thumb the fake uses everywhere. */
export function tokensForChars(chars: number): number {
  return Math.ceil(chars / 4);
}

/**
 * Estimates input tokens deterministically (~chars/4 plus small per-message overheads) and
 * locates `cache_control` breakpoints. Fingerprints ignore `cache_control` itself, so moving
 * a breakpoint forward in a growing conversation still hits the earlier prefix.
 */
export function estimateInput(request: MessageRequest): InputEstimate {
  const units: Unit[] = [];
  for (const tool of request.tools) units.push(unitOf(tool, JSON.stringify(strip(tool)).length));
  if (typeof request.system === 'string') {
    units.push({
      tokens: tokensForChars(request.system.length),
      key: request.system,
      cacheControl: undefined,
    });
  } else {
    for (const block of request.system ?? []) units.push(blockUnit(block));
  }
  for (const message of request.messages) {
    units.push({ tokens: MESSAGE_OVERHEAD, key: message.role, cacheControl: undefined });
    if (typeof message.content === 'string') {
      units.push({
        tokens: tokensForChars(message.content.length),
        key: message.content,
        cacheControl: undefined,
      });
    } else {
      for (const block of message.content) units.push(blockUnit(block));
    }
  }

  let total = REQUEST_OVERHEAD;
  for (const unit of units) total += unit.tokens;
  const marked = units.some((u) => u.cacheControl !== undefined);
  if (!marked && request.cacheControl === undefined) return { total, breakpoints: [] };

  const breakpoints: CacheBreakpoint[] = [];
  const boundaries: PromptBoundary[] = [];
  const hash: Hash = createHash('sha256').update(request.model);
  let cumulative = REQUEST_OVERHEAD;
  units.forEach((unit, i) => {
    cumulative += unit.tokens;
    hash.update('\u0000').update(unit.key);
    const boundary = { tokens: cumulative, fingerprint: hash.copy().digest('base64') };
    // Top-level cache_control caches the whole prompt: an implicit breakpoint on the last unit.
    const control =
      unit.cacheControl ?? (i === units.length - 1 ? request.cacheControl : undefined);
    if (control !== undefined) {
      const ttl = isObject(control) && control['ttl'] === '1h' ? '1h' : '5m';
      const lookback = boundaries.slice(-LOOKBACK_UNITS).reverse();
      breakpoints.push({ ...boundary, ttl, lookback });
    }
    boundaries.push(boundary);
  });
  return { total, breakpoints };
}

function blockUnit(block: JsonObject): Unit {
  if (block['type'] === 'text' && typeof block['text'] === 'string') {
    return {
      tokens: tokensForChars(block['text'].length),
      key: block['text'],
      cacheControl: block['cache_control'] ?? undefined,
    };
  }
  if (block['type'] === 'image') {
    return {
      tokens: IMAGE_TOKENS,
      key: JSON.stringify(strip(block)),
      cacheControl: block['cache_control'] ?? undefined,
    };
  }
  return unitOf(block, undefined);
}

function unitOf(value: JsonObject, knownLength: number | undefined): Unit {
  const key = JSON.stringify(strip(value));
  return {
    tokens: tokensForChars(knownLength ?? key.length),
    key,
    cacheControl: value['cache_control'] ?? undefined,
  };
}

function strip(value: JsonObject): JsonObject {
  if (!('cache_control' in value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([name]) => name !== 'cache_control'));
}
