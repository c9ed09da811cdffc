import type { Client } from '@connectrpc/connect';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Histogram } from '@opentelemetry/api';
import { Product, type Principal } from '@fortress/proto/common/v1/common_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import {
  ConnectorStatus,
  type Connector,
  type PolicyAdminService,
  type RedactionProfile,
} from '@fortress/proto/policy/v1/policy_pb';
import type { VaultAdminService } from '@fortress/proto/vault/v1/vault_pb';
import type { EventBus } from '@fortress/kit/event-bus';
import type { Logger } from '@fortress/kit/log';
import { actorOf, outcomeEnvelope } from '../chain/audit-events.js';
import type { DecisionChain, RequestFacts } from '../chain/decision-chain.js';
import { SessionRefused, type CredentialRelease } from '../chain/credential-release.js';
import { timed } from '../chain/stage-timer.js';
import { denialFailure } from './denials.js';
import { RpcCode, RpcFailure } from './jsonrpc.js';
import {
  zeroCredential,
  type CallOutcome,
  type ConnectorCredential,
  type ConnectorRuntime,
  type ContentBlock,
} from './tool-types.js';

/** A tool result as MCP returns it. */
export interface ToolResult {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** Masks PII in a result the way a redaction profile says; counts what it masked, by kind. */
export type RedactResult = (
  result: ToolResult,
  profile: RedactionProfile | undefined,
) => { result: ToolResult; counts: Array<{ kind: string; count: number }> };

/** What a tool call needs. */
export interface ToolCallDeps {
  chain: DecisionChain;
  /** The vault's last step: the connector's credential (in a session for Zero Trust). */
  release: CredentialRelease;
  vaultAdmin: Client<typeof VaultAdminService>;
  policyAdmin: Client<typeof PolicyAdminService>;
  runtime: ConnectorRuntime;
  redact: RedactResult;
  bus: EventBus;
  /** Publishes a webhook notification (best effort). */
  notify: (orgId: string, type: string, data: Record<string, string>) => void;
  logger: Logger;
  stages: Histogram;
  hopTimeoutMs: number;
  upstreamTimeoutMs: number;
  auditAckTimeoutMs: number;
  /** Arguments larger than this (as JSON) are refused before anything else. */
  maxArgumentBytes: number;
}

const ACTION = 'mcp:tools.call';
/** Who the edge is in the change log when it reports a connector's health or refreshes a token. */
const EDGE_ACTOR = 'system:edge';

/** The parameters of a tools/call, checked. */
function callParams(params: Record<string, unknown> | undefined): {
  name: string;
  args: Record<string, unknown>;
} {
  const name = params?.['name'];
  if (typeof name !== 'string' || name.length === 0)
    throw new RpcFailure(RpcCode.INVALID_PARAMS, 'Invalid params: name must be a tool name');
  const args = params?.['arguments'] ?? {};
  if (args === null || typeof args !== 'object' || Array.isArray(args))
    throw new RpcFailure(RpcCode.INVALID_PARAMS, 'Invalid params: arguments must be an object');
  return { name, args: args as Record<string, unknown> };
}

/**
 * `tools/call`: the chain (identity → posture → policy, the decision audited before anything
 * runs), then the tool's schema, the connector's credential from the vault, the SaaS call,
 * the redaction the policy obliges, and the outcome event (status, latency, what was masked —
 * never the values). A business error of the SaaS is a result with `isError`; an outage is
 * one too, and marks the connector OFFLINE (`connector.error`) until a call succeeds again.
 */
export function createToolCall(deps: ToolCallDeps) {
  const { logger } = deps;

  /** Reports a connector's health to the policy; a report never undoes a kill. */
  const report = (orgId: string, connector: Connector, healthy: boolean, reason: string) => {
    const from = healthy ? ConnectorStatus.OFFLINE : ConnectorStatus.ACTIVE;
    if (connector.status !== from) return;
    deps.policyAdmin
      .setConnectorStatus(
        {
          orgId,
          connectorId: connector.id,
          status: healthy ? ConnectorStatus.ACTIVE : ConnectorStatus.OFFLINE,
          expectedStatus: from,
          reason,
          actorId: EDGE_ACTOR,
        },
        { timeoutMs: deps.hopTimeoutMs },
      )
      .catch((err: unknown) =>
        logger.warn({ err, orgId, connectorId: connector.id }, 'connector status not reported'),
      );
  };

  /** Stores a refreshed OAuth credential back in the vault (the old one stops at once). */
  const storeBack = (orgId: string, credentialRef: string, c: ConnectorCredential) => {
    deps.vaultAdmin
      .rotateCredential(
        {
          orgId,
          id: credentialRef,
          material: { secret: c.secret, fields: c.fields },
          overlapSeconds: 1,
          actorId: EDGE_ACTOR,
        },
        { timeoutMs: deps.hopTimeoutMs },
      )
      .catch((err: unknown) => {
        // Another replica's refresh won the race, or the vault is down: the next call
        // refreshes again.
        logger.warn({ err, orgId, credentialRef }, 'refreshed credential not stored');
      });
  };

  return {
    async call(
      principal: Principal,
      identityUs: number,
      facts: RequestFacts,
      params: Record<string, unknown> | undefined,
    ): Promise<ToolResult> {
      const started = performance.now();
      const { name, args } = callParams(params);
      const outcome = (o: {
        statusCode: number;
        errorType?: string;
        upstreamUs?: number;
        redactions?: Array<{ kind: string; count: number }>;
      }) => {
        const env: EventEnvelope = outcomeEnvelope(principal.orgId, {
          requestId: facts.requestId,
          product: Product.MCP,
          actor: actorOf(principal),
          action: ACTION,
          resource: `tool:${name}`,
          latencyUs: Math.round((performance.now() - started) * 1000),
          statusCode: o.statusCode,
          ...(o.errorType ? { errorType: o.errorType } : {}),
          ...(o.upstreamUs ? { upstreamLatencyUs: o.upstreamUs } : {}),
          redactions: o.redactions ?? [],
        });
        deps.bus.publish(env, deps.auditAckTimeoutMs).catch((err: unknown) => {
          logger.error({ err, requestId: facts.requestId }, 'outcome event not acknowledged');
        });
      };

      const authz = await deps.chain.authorize(principal, identityUs, facts, ACTION, {
        type: 'tool',
        id: name,
        patKeyId: '',
      });
      if (!authz.ok) throw denialFailure(authz.denial);
      const { allowed } = authz;
      const connector = allowed.obligations?.connectors[0];
      const action = name.slice(name.indexOf('__') + 2);
      const signal = AbortSignal.timeout(deps.upstreamTimeoutMs);
      const known = connector
        ? (await deps.runtime.tools(principal.orgId, connector, signal)).find(
            (t) => t.name === name,
          )
        : undefined;
      if (!connector || !known) {
        outcome({ statusCode: 400, errorType: 'unknown_tool' });
        throw new RpcFailure(RpcCode.INVALID_PARAMS, `Unknown tool: ${name}`);
      }
      if (Buffer.byteLength(JSON.stringify(args)) > deps.maxArgumentBytes) {
        outcome({ statusCode: 413, errorType: 'arguments_too_large' });
        throw new RpcFailure(
          RpcCode.INVALID_PARAMS,
          `Invalid params: arguments exceed ${deps.maxArgumentBytes} bytes`,
        );
      }

      const problems = deps.runtime.validate(principal.orgId, connector, action, args);
      if (problems.length > 0) {
        outcome({ statusCode: 400, errorType: 'invalid_arguments' });
        throw new RpcFailure(
          RpcCode.INVALID_PARAMS,
          `Invalid params: arguments do not match the input schema of ${name}`,
          { errors: problems.slice(0, 20) },
        );
      }

      let credential: ConnectorCredential;
      try {
        const resolved = await deps.release(allowed, facts);
        const m = resolved.material;
        credential = { kind: resolved.kind, secret: m.secret, fields: m.fields };
      } catch (err) {
        if (err instanceof SessionRefused) {
          outcome({ statusCode: 403, errorType: 'vault_session_refused' });
          throw new RpcFailure(RpcCode.INVALID_PARAMS, 'Policy denied', {
            reason: err.message,
            code: err.reason?.code ?? 'vault_session_refused',
            ...(err.reason?.ruleId ? { ruleId: err.reason.ruleId } : {}),
          });
        }
        const missing = ConnectError.from(err).code === Code.NotFound;
        logger.warn({ err, requestId: facts.requestId }, 'vault did not release the credential');
        outcome({
          statusCode: 503,
          errorType: missing ? 'credential_missing' : 'vault_unavailable',
        });
        throw new RpcFailure(
          RpcCode.INTERNAL_ERROR,
          missing
            ? `connector "${connector.id}" has no credential; an administrator must add one`
            : 'Fortress could not reach its credential vault; the call was not made',
        );
      }

      let result: CallOutcome;
      try {
        result = (
          await timed(deps.stages, 'upstream', () =>
            deps.runtime.call({
              orgId: principal.orgId,
              connector,
              action,
              args,
              credential,
              signal,
            }),
          )
        ).value;
      } catch (err) {
        logger.error({ err, requestId: facts.requestId }, 'connector failed unexpectedly');
        result = { kind: 'unavailable', reason: 'the connector failed' };
      } finally {
        zeroCredential(credential);
      }
      if (result.refreshed) storeBack(principal.orgId, allowed.credentialRef, result.refreshed);
      const upstreamUs = result.upstreamUs ?? 0;

      if (result.kind === 'invalid_arguments') {
        outcome({ statusCode: 400, errorType: 'invalid_arguments' });
        throw new RpcFailure(
          RpcCode.INVALID_PARAMS,
          `Invalid params: arguments do not match the input schema of ${name}`,
          { errors: result.errors.slice(0, 20) },
        );
      }
      if (result.kind === 'unavailable') {
        report(principal.orgId, connector, false, result.reason);
        deps.notify(principal.orgId, 'connector.error', {
          connectorId: connector.id,
          tool: name,
          reason: result.reason,
          requestId: facts.requestId,
        });
        outcome({ statusCode: 502, errorType: 'connector_unavailable', upstreamUs });
        return {
          content: [
            {
              type: 'text',
              text: `The ${connector.label || connector.id} connector is unavailable right now (${result.reason}). Try again later.`,
            },
          ],
          isError: true,
        };
      }
      report(principal.orgId, connector, true, 'a call succeeded');
      const raw: ToolResult = {
        content: result.content,
        ...(result.structuredContent ? { structuredContent: result.structuredContent } : {}),
        ...(result.isError ? { isError: true } : {}),
      };
      let masked;
      try {
        masked = deps.redact(raw, allowed.obligations?.redaction);
      } catch (err) {
        // A result that cannot be redacted as the policy obliges is not sent (fail closed).
        logger.error({ err, requestId: facts.requestId }, 'tool result could not be redacted');
        outcome({ statusCode: 500, errorType: 'redaction_failed', upstreamUs });
        throw new RpcFailure(
          RpcCode.INTERNAL_ERROR,
          'the tool result could not be redacted as your organisation requires; it was not sent',
        );
      }
      outcome({
        statusCode: 200,
        ...(result.isError ? { errorType: 'business_error' } : {}),
        upstreamUs,
        redactions: masked.counts,
      });
      return masked.result;
    },
  };
}

/** The tool call path. */
export type ToolCall = ReturnType<typeof createToolCall>;
