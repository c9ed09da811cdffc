import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Histogram } from '@opentelemetry/api';
import { Hop, Product, type Principal } from '@fortress/proto/common/v1/common_pb';
import type { EventBus } from '@fortress/kit/event-bus';
import type { Logger } from '@fortress/kit/log';
import { actualSpend, actualTokens, type TokenUsage } from '@fortress/pricing/spend';
import type { PriceEntry } from '@fortress/pricing/price-book';
import { actorOf, outcomeEnvelope } from '../chain/audit-events.js';
import type {
  Allowed,
  DecisionChain,
  Denial,
  RequestDemand,
  RequestFacts,
} from '../chain/decision-chain.js';
import { SessionRefused, type CredentialRelease } from '../chain/credential-release.js';
import { errors, sendAnthropicError, type AnthropicError } from '../http/anthropic-error.js';
import { presentedCredentials } from '../http/credentials.js';
import type { SpendSettler } from './spend-settler.js';
import type { ArchiveEntry, ArchiveKey } from '../archive/archive-writer.js';
import { usageInit } from './usage-tap.js';

/** How an admitted request ended. */
export interface RequestEnd {
  statusCode: number;
  errorType?: string;
  upstreamLatencyUs?: number;
  /** Usage the upstream reported, if any. */
  tokens?: TokenUsage;
  /** The rates its usage is billed at (none: nothing to bill, e.g. count_tokens). */
  price?: PriceEntry | undefined;
  upstreamRequestId?: string;
  clientAborted?: boolean;
  /** The bodies of the exchange, for the archive (routes that have bodies). */
  exchange?: ExchangeBodies;
}

/** The request and response bodies of an exchange, as the client sent and received them. */
export interface ExchangeBodies {
  request: Buffer;
  response: Buffer;
  /** The response was longer than the archive keeps; its first bytes are kept. */
  responseTruncated: boolean;
  responseContentType: string;
  responseContentEncoding: string;
  /** The max_tokens the request was forwarded with, when a clamp rewrote it. */
  clampedMaxTokens?: number;
}

/** A request that passed the chain and holds the real key; `finish` must be called once. */
export interface Admitted {
  principal: Principal;
  allowed: Allowed;
  apiKey: string;
  /** Settles the reservation with what was used and publishes the outcome (once). */
  finish(end: RequestEnd): void;
}

/** What admission needs. */
export interface AdmissionDeps {
  chain: DecisionChain;
  /** The vault's last step: the real key (in a session for Zero Trust). */
  release: CredentialRelease;
  bus: EventBus;
  logger: Logger;
  stages: Histogram;
  settle: SpendSettler;
  hopTimeoutMs: number;
  auditAckTimeoutMs: number;
  /** Where finished exchanges go for the encrypted archive: the object that will hold it. */
  archive?: (entry: ArchiveEntry) => string | undefined;
}

/** The Anthropic error for a denial of the chain. */
export function denialError(d: Denial): AnthropicError {
  switch (d.kind) {
    case 'unauthenticated':
      return errors.unauthenticated(d.message);
    case 'device_noncompliant':
      return errors.deviceNoncompliant(d.message, d.deviceId ?? '');
    case 'policy_denied':
      return errors.policyDenied(d.message, d.final);
    case 'rate_limited':
      return errors.rateLimited(d.message, d.retryAfter);
    case 'unavailable':
      return errors.failedClosed();
  }
}

/**
 * The client's answer when the vault refuses the PAT key's credential for a reason of its
 * own — final answers, not outages: the key was shredded by a revocation after policy
 * allowed, or the org key is pinned to a version a rotation has retired.
 */
function credentialRefusal(
  err: unknown,
  principal: Principal,
): { code: string; error: AnthropicError } | undefined {
  if (err instanceof SessionRefused)
    return {
      code: 'vault_session_refused',
      error:
        err.reason?.code === 'device_noncompliant'
          ? errors.deviceNoncompliant(err.message, principal.deviceId)
          : errors.policyDenied(err.message),
    };
  const e = ConnectError.from(err);
  const reason = e.metadata.get('fortress-reason');
  if (e.code === Code.NotFound)
    return {
      code: 'pat_key_revoked',
      error: errors.policyDenied(`PAT key "${principal.patKeyId}" has been revoked`, true),
    };
  if (reason === 'credential_version_retired')
    return {
      code: 'pat_key_version_retired',
      error: {
        ...errors.unauthenticated(
          `this org key was issued for version ${principal.patKeyVersion} of PAT key "${principal.patKeyId}", which was rotated out when its overlap window ended; ask your admin for a new org key`,
        ),
        headers: { 'x-should-retry': 'false' },
      },
    };
  return undefined;
}

/**
 * The front half of every PAT route: who is calling (identity), whether they may (posture,
 * policy, the audited decision) and the real key (vault). Each step that says no answers the
 * client in Anthropic's error shape and returns undefined. What comes after — the upstream
 * call — ends with `finish`, which settles the quota reservation and publishes the outcome.
 */
export function createAdmission(deps: AdmissionDeps) {
  const { chain, logger } = deps;

  return {
    /** Step 1; undefined when the client has been answered. */
    async authenticate(
      req: IncomingMessage,
      res: ServerResponse,
      facts: RequestFacts,
      action: string,
    ): Promise<{ principal: Principal; us: number } | undefined> {
      const presented = presentedCredentials(req.headers);
      if (!presented.apiKey) {
        req.resume();
        sendAnthropicError(res, facts.requestId, errors.missingKey());
        return undefined;
      }
      const auth = await chain.authenticate(presented, facts, action);
      if (auth.ok) return { principal: auth.principal, us: auth.us };
      req.resume();
      sendAnthropicError(res, facts.requestId, denialError(auth.denial));
      return undefined;
    },

    /** Steps 2–4; undefined when the client has been answered. */
    async admit(
      res: ServerResponse,
      facts: RequestFacts,
      who: { principal: Principal; us: number },
      action: string,
      model: string,
      demand?: RequestDemand,
      /** A route's own answer to some denials (e.g. 404 for a model the caller may not see). */
      answerDenial: (d: Denial) => AnthropicError | undefined = () => undefined,
    ): Promise<Admitted | undefined> {
      const started = performance.now();
      const receivedAt = new Date();
      const { principal } = who;
      const authz = await chain.authorize(
        principal,
        who.us,
        facts,
        action,
        { type: 'model', id: model, patKeyId: principal.patKeyId },
        demand,
      );
      if (!authz.ok) {
        const e = answerDenial(authz.denial) ?? denialError(authz.denial);
        sendAnthropicError(res, facts.requestId, e);
        return undefined;
      }
      const allowed = authz.allowed;

      let finished = false;
      /** A Zero Trust request's archive key, released in its session; zeroed once used. */
      let archiveKey: ArchiveKey | undefined;
      const finish = (end: RequestEnd) => {
        if (finished) return;
        finished = true;
        const tokens = end.tokens;
        const spend = end.price && tokens ? actualSpend(end.price, tokens) : 0;
        if (allowed.reservationId) {
          void deps.settle(principal.orgId, allowed.reservationId, {
            spendMicrousd: spend,
            tokens: tokens ? actualTokens(tokens) : 0,
          });
        }
        // Archived first: the outcome names the object that holds the exchange.
        let archiveObject: string | undefined;
        if (deps.archive && end.exchange) {
          const x = end.exchange;
          archiveObject = deps.archive({
            orgId: principal.orgId,
            requestId: facts.requestId,
            size: x.request.length + x.response.length,
            ...(archiveKey ? { key: archiveKey } : {}),
            record: {
              v: 1,
              request_id: facts.requestId,
              org_id: principal.orgId,
              pat_key_id: principal.patKeyId,
              pat_key_version: principal.patKeyVersion,
              actor: {
                subject_id: principal.subjectId,
                user_id: principal.userId,
                email: principal.email,
                api_key_id: principal.apiKeyId,
                device_id: principal.deviceId,
              },
              client_ip: facts.clientIp,
              user_agent: facts.userAgent,
              action,
              model,
              status_code: end.statusCode,
              error_type: end.errorType ?? '',
              client_aborted: end.clientAborted ?? false,
              received_at: receivedAt.toISOString(),
              completed_at: new Date().toISOString(),
              // In the Messages API's own names.
              usage: tokens
                ? {
                    input_tokens: tokens.inputTokens,
                    output_tokens: tokens.outputTokens,
                    cache_creation_input_tokens: tokens.cacheCreationInputTokens,
                    cache_read_input_tokens: tokens.cacheReadInputTokens,
                    cache_creation: {
                      ephemeral_5m_input_tokens: tokens.cacheCreation5mInputTokens,
                      ephemeral_1h_input_tokens: tokens.cacheCreation1hInputTokens,
                    },
                    server_tool_use: { web_search_requests: tokens.webSearchRequests },
                  }
                : null,
              spend_microusd: spend,
              upstream_request_id: end.upstreamRequestId ?? '',
              request: {
                content_type: 'application/json',
                body_base64: x.request.toString('base64'),
                ...(x.clampedMaxTokens ? { forwarded_max_tokens: x.clampedMaxTokens } : {}),
              },
              response: {
                content_type: x.responseContentType,
                content_encoding: x.responseContentEncoding,
                body_base64: x.response.toString('base64'),
                truncated: x.responseTruncated,
              },
            },
          });
        } else {
          archiveKey?.bytes.fill(0);
        }
        const env = outcomeEnvelope(principal.orgId, {
          requestId: facts.requestId,
          product: Product.PAT,
          actor: actorOf(principal),
          action,
          resource: `model:${model}`,
          latencyUs: Math.round((performance.now() - started) * 1000),
          statusCode: end.statusCode,
          ...(end.errorType ? { errorType: end.errorType } : {}),
          ...(end.upstreamLatencyUs ? { upstreamLatencyUs: end.upstreamLatencyUs } : {}),
          ...(tokens ? { usage: usageInit(tokens) } : {}),
          spendMicrousd: BigInt(spend),
          reservationId: allowed.reservationId,
          tokens: BigInt(tokens ? actualTokens(tokens) : 0),
          ...(end.upstreamRequestId ? { upstreamRequestId: end.upstreamRequestId } : {}),
          clientAborted: end.clientAborted ?? false,
          ...(archiveObject ? { archiveObject } : {}),
        });
        deps.bus.publish(env, deps.auditAckTimeoutMs).catch((err: unknown) => {
          logger.error({ err, requestId: facts.requestId }, 'outcome event not acknowledged');
        });
      };

      try {
        const released = await deps.release(allowed, facts, {
          // An org key pinned to a version of the PAT key's Anthropic key uses that one
          // (through a rotation's overlap); an unpinned key, the current one.
          version: principal.patKeyVersion,
          archiveKey: deps.archive !== undefined,
        });
        archiveKey = released.archiveKey;
        const secret = released.material.secret;
        const apiKey = Buffer.from(secret).toString('utf8');
        secret.fill(0);
        return { principal, allowed, apiKey, finish };
      } catch (err) {
        const refused = credentialRefusal(err, principal);
        if (refused) {
          sendAnthropicError(res, facts.requestId, refused.error);
          finish({ statusCode: refused.error.status, errorType: refused.code });
          return undefined;
        }
        logger.warn(
          { err, requestId: facts.requestId },
          'vault did not release the credential; failing closed',
        );
        const e = errors.failedClosed();
        sendAnthropicError(res, facts.requestId, e);
        finish({ statusCode: e.status, errorType: `${Hop[Hop.VAULT].toLowerCase()}_unavailable` });
        return undefined;
      }
    },
  };
}

/** The admission steps. */
export type Admission = ReturnType<typeof createAdmission>;
