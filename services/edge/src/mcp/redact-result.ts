import { RedactionKind, type RedactionProfile } from '@fortress/proto/policy/v1/policy_pb';
import type { Logger } from '@fortress/kit/log';
import { createRedactor, type Redactor } from '@fortress/redact/redactor';
import type { Counts } from '@fortress/redact/profile';
import type { ContentBlock } from './tool-types.js';
import type { RedactResult, ToolResult } from './tool-call.js';

/** Distinct profiles whose compiled redactors are kept. */
const MAX_CACHED = 256;

/** The profile in the redactor's terms ("email", … and the custom patterns). */
function profileOf(p: RedactionProfile) {
  return {
    kinds: p.kinds
      .filter((k) => k !== RedactionKind.UNSPECIFIED)
      .map((k) => (RedactionKind[k] ?? '').toLowerCase()),
    custom: p.custom.map((c) => ({ id: c.id, pattern: c.pattern, mask: c.mask })),
  };
}

/** Adds one result's counts to the running totals. */
function add(total: Map<string, number>, counts: Counts) {
  for (const [kind, n] of Object.entries(counts))
    total.set(kind, (total.get(kind) ?? 0) + (n ?? 0));
}

/**
 * Masks PII in tool results as the policy's redaction obligation says: every text content block
 * and the structured content (value by value, so it stays valid against the tool's output
 * schema). Redactors are compiled once per distinct profile. A profile that cannot be honoured
 * (e.g. an invalid custom pattern) throws: the caller fails closed and sends nothing.
 */
export function createResultRedactor(deps: { logger: Logger }): RedactResult {
  const cache = new Map<string, Redactor>();
  const redactorFor = (p: RedactionProfile): Redactor => {
    const profile = profileOf(p);
    const key = JSON.stringify(profile);
    let r = cache.get(key);
    if (!r) {
      r = createRedactor(profile);
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
      cache.set(key, r);
      deps.logger.debug({ kinds: profile.kinds }, 'redactor compiled');
    }
    return r;
  };

  return (result, profile) => {
    if (!profile || (profile.kinds.length === 0 && profile.custom.length === 0))
      return { result, counts: [] };
    const redactor = redactorFor(profile);
    if (redactor.noop) return { result, counts: [] };
    const total = new Map<string, number>();
    const sc = result.structuredContent;
    const maskedSc = sc ? redactor.json(sc) : undefined;
    if (maskedSc) add(total, maskedSc.counts);
    // A text block that is the structured content serialised is re-serialised from its masked
    // form: the same PII is then masked identically and counted once.
    const serialised = sc ? [JSON.stringify(sc), JSON.stringify(sc, null, 2)] : [];
    const content = result.content.map((block): ContentBlock => {
      if (block['type'] !== 'text' || typeof block['text'] !== 'string') return block;
      const at = serialised.indexOf(block['text']);
      if (maskedSc && at >= 0)
        return {
          ...block,
          type: 'text',
          text: JSON.stringify(maskedSc.value, null, at === 1 ? 2 : undefined),
        };
      const masked = redactor.text(block['text']);
      add(total, masked.counts);
      return { ...block, type: 'text', text: masked.text };
    });
    const out: ToolResult = { ...result, content };
    if (maskedSc) out.structuredContent = maskedSc.value as Record<string, unknown>;
    return {
      result: out,
      counts: [...total]
        .map(([kind, count]) => ({ kind, count }))
        .sort((a, b) => a.kind.localeCompare(b.kind)),
    };
  };
}
