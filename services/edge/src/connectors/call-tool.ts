/**
 * `callTool`: runs one connector action against the vendor with the decrypted credential and
 * says what came of it (types.ts `ToolOutcome`). Arguments are checked against the tool's
 * input schema, results against its output schema; no secret reaches any returned string.
 */
import { failureOf, prepare, type ExecutorOptions } from './call-setup.js';
import { collectPages } from './pagination.js';
import { renderRequest, templateOf } from './request-template.js';
import { argumentsWithDefaults, toolOf, validateToolResult } from './schema-validation.js';
import type { SecretSet } from './secret-scrub.js';
import type { ConnectorDefinition, CredentialMaterial, ToolOutcome } from './types.js';
import { send, type CallFailure, type VendorCall } from './vendor-call.js';

/** Options of {@link callTool}. */
export interface CallToolOptions extends ExecutorOptions {
  /** The action without the connector prefix, e.g. `list_tickets`. */
  action: string;
  args: Record<string, unknown>;
  /** Items per page for list tools, capped by the vendor's maximum; the maximum by default. */
  pageSize?: number;
}

type Settled = { kind: 'result'; structuredContent: Record<string, unknown> } | CallFailure;

/**
 * Calls one tool of a connector instance. Rejects only when the caller cancels through the
 * signal (with the signal's reason) or on a programming error; every vendor outcome resolves.
 */
export async function callTool(opts: CallToolOptions): Promise<ToolOutcome> {
  const prepared = prepare(opts);
  if (!prepared.ok) return finish(prepared.failure, prepared.secrets, undefined);
  const { def, call, secrets, session } = prepared;
  let settled: Settled;
  try {
    settled = await run(def, call, prepared.baseUrl, prepared.settings, opts);
  } catch (err: unknown) {
    settled = failureOf(err, def.title, opts.signal);
  }
  return finish(settled, secrets, session.refreshed());
}

async function run(
  def: ConnectorDefinition,
  call: VendorCall,
  baseUrl: string,
  settings: Readonly<Record<string, string>>,
  opts: CallToolOptions,
): Promise<Settled> {
  const tool = toolOf(def, opts.action);
  if (tool === undefined) {
    return {
      kind: 'business_error',
      status: 400,
      message: `unknown action "${opts.action}" for ${def.type}`,
    };
  }
  const checked = argumentsWithDefaults(tool, opts.args);
  if (!checked.ok) {
    return {
      kind: 'business_error',
      status: 400,
      message: `invalid arguments: ${checked.errors.join('; ')}`,
    };
  }
  const args = checked.args;
  const inputs = { args, settings };

  let result: Record<string, unknown>;
  if (tool.list !== undefined) {
    const limit = typeof args['limit'] === 'number' ? args['limit'] : 50;
    const pages = await collectPages({
      call,
      tool: { ...tool, list: tool.list },
      inputs,
      baseUrl,
      limit,
      pageSize: opts.pageSize,
    });
    if (!pages.ok) return pages.failure;
    result = tool.result({ args, body: pages.body, items: pages.items, hasMore: pages.hasMore });
  } else {
    const rendered = renderRequest(templateOf(tool.request, inputs), inputs, baseUrl);
    if (!rendered.ok)
      return {
        kind: 'business_error',
        status: 400,
        message: `invalid arguments: ${rendered.error}`,
      };
    const answer = await send(call, rendered.request);
    if (!answer.ok) return answer.failure;
    result = tool.result({ args, body: answer.response.body, items: [], hasMore: false });
  }
  const valid = validateToolResult(tool, result);
  if (!valid.ok) {
    return {
      kind: 'unavailable',
      reason: `${def.title} answered in a shape ${def.type}__${tool.action} cannot read: ${valid.errors.slice(0, 3).join('; ')}`,
    };
  }
  return { kind: 'result', structuredContent: result };
}

/** Scrubs secrets from the outcome and attaches refreshed material. */
function finish(
  settled: Settled,
  secrets: SecretSet,
  refreshed: CredentialMaterial | undefined,
): ToolOutcome {
  const extra = refreshed === undefined ? {} : { refreshedCredential: refreshed };
  switch (settled.kind) {
    case 'result': {
      const structuredContent = secrets.scrubValue(settled.structuredContent);
      return {
        kind: 'result',
        structuredContent,
        text: JSON.stringify(structuredContent),
        ...extra,
      };
    }
    case 'business_error':
      return {
        kind: 'business_error',
        status: settled.status,
        message: secrets.scrub(settled.message),
        ...extra,
      };
    case 'unavailable':
      return { kind: 'unavailable', reason: secrets.scrub(settled.reason), ...extra };
  }
}
