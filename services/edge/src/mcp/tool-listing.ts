import type { Client } from '@connectrpc/connect';
import type { Principal } from '@fortress/proto/common/v1/common_pb';
import type { PolicyService } from '@fortress/proto/policy/v1/policy_pb';
import type { Logger } from '@fortress/kit/log';
import type { DecisionChain, RequestFacts } from '../chain/decision-chain.js';
import { denialFailure } from './denials.js';
import { RpcCode, RpcFailure } from './jsonrpc.js';
import type { ConnectorRuntime, McpTool } from './tool-types.js';

/** What the listing needs. */
export interface ToolListingDeps {
  chain: DecisionChain;
  policy: Client<typeof PolicyService>;
  runtime: ConnectorRuntime;
  logger: Logger;
  hopTimeoutMs: number;
  pageSize: number;
}

/** One page of tools. */
export interface ToolPage {
  tools: McpTool[];
  nextCursor?: string;
  /** The policy version the page was filtered with. */
  policyVersion: string;
}

const ACTION = 'mcp:tools.list';

/** The cursor of the page after `name` (opaque to clients). */
const cursorAfter = (name: string) => Buffer.from(`after:${name}`).toString('base64url');

/** The name a cursor continues after. */
function afterOf(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('after:') || cursor.length > 200)
    throw new RpcFailure(RpcCode.INVALID_PARAMS, 'Invalid cursor', { cursor: cursor.slice(0, 80) });
  return text.slice('after:'.length);
}

/**
 * `tools/list`: the tools the caller's role may call, and no others. The policy first decides
 * the listing itself (audited) and names the connectors whose tools may be shown (a killed or
 * untested connector shows nothing); each candidate tool is then put to the policy (Explain:
 * roles, toggles, conditional rules, destructive flags), and the allowed ones are listed in
 * name order, paged with an opaque cursor.
 */
export function createToolListing(deps: ToolListingDeps) {
  return {
    async list(
      principal: Principal,
      identityUs: number,
      facts: RequestFacts,
      cursor: string | undefined,
    ): Promise<ToolPage> {
      const after = cursor === undefined ? undefined : afterOf(cursor);
      const authz = await deps.chain.authorize(
        principal,
        identityUs,
        facts,
        ACTION,
        { type: 'tool', id: '', patKeyId: '' },
        undefined,
        false,
      );
      if (!authz.ok) throw denialFailure(authz.denial);
      const connectors = authz.allowed.obligations?.connectors ?? [];
      const signal = AbortSignal.timeout(deps.hopTimeoutMs * 5);
      const offered = (
        await Promise.all(
          connectors.map((c) =>
            deps.runtime.tools(principal.orgId, c, signal).catch((err: unknown) => {
              // One connector's catalog failing hides its tools, not everyone else's.
              deps.logger.warn(
                { err, connectorId: c.id, requestId: facts.requestId },
                'connector tools unavailable',
              );
              return [];
            }),
          ),
        )
      ).flat();
      if (offered.length === 0) return { tools: [], policyVersion: authz.allowed.policyVersion };
      let allowed: Set<string>;
      try {
        const explained = await deps.policy.explain(
          {
            principal,
            resourceType: 'tool',
            context: {
              requestId: facts.requestId,
              clientIp: facts.clientIp,
              userAgent: facts.userAgent,
              product: facts.product,
            },
            candidates: offered.map((t) => ({
              type: 'tool',
              id: t.name,
              connectorId: t.name.split('__')[0] ?? '',
              destructive: t.annotations?.destructiveHint ?? false,
            })),
          },
          { timeoutMs: deps.hopTimeoutMs },
        );
        allowed = new Set(
          explained.entitlements.filter((e) => e.allowed).map((e) => e.resource?.id ?? ''),
        );
      } catch (err) {
        deps.logger.warn({ err, requestId: facts.requestId }, 'policy unavailable; failing closed');
        throw denialFailure({ kind: 'unavailable', hop: 0, message: '', reasons: [] });
      }
      const visible = offered
        .filter((t) => allowed.has(t.name))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const start = after === undefined ? 0 : visible.findIndex((t) => t.name > after);
      const from = start < 0 ? visible.length : start;
      const tools = visible.slice(from, from + deps.pageSize);
      const last = tools.at(-1);
      return {
        tools,
        ...(last && from + deps.pageSize < visible.length
          ? { nextCursor: cursorAfter(last.name) }
          : {}),
        policyVersion: authz.allowed.policyVersion,
      };
    },
  };
}

/** The tool listing. */
export type ToolListing = ReturnType<typeof createToolListing>;
