import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Client } from '@connectrpc/connect';
import type { Histogram } from '@opentelemetry/api';
import { Hop, Product } from '@fortress/proto/common/v1/common_pb';
import type { VaultService } from '@fortress/proto/vault/v1/vault_pb';
import type { EventBus } from '@fortress/kit/event-bus';
import type { Logger } from '@fortress/kit/log';
import { outcomeEnvelope, actorOf } from '../chain/audit-events.js';
import type { DecisionChain, Denial, RequestFacts } from '../chain/decision-chain.js';
import { timed } from '../chain/stage-timer.js';
import { errors, sendAnthropicError, type AnthropicError } from '../http/anthropic-error.js';
import { presentedCredentials } from '../http/credentials.js';
import { BodyTooLargeError, readBody } from '../http/read-body.js';
import {
  clientHeaders,
  upstreamHeaders,
  type AnthropicUpstream,
} from '../upstream/anthropic-upstream.js';
import { createUsageTap, type UsageInit } from './usage-tap.js';

const ACTION = 'pat:messages.create';

/** What a route knows about how an allowed request ended. */
interface OutcomeFields {
  statusCode: number;
  errorType?: string;
  upstreamLatencyUs?: number;
  usage?: UsageInit;
  upstreamRequestId?: string;
  clientAborted?: boolean;
}

/** What the Messages route needs. */
export interface MessagesRouteDeps {
  chain: DecisionChain;
  vault: Client<typeof VaultService>;
  upstream: AnthropicUpstream;
  bus: EventBus;
  logger: Logger;
  stages: Histogram;
  hopTimeoutMs: number;
  auditAckTimeoutMs: number;
  maxBodyBytes: number;
}

/** The Anthropic error for a denial of the chain. */
function denialError(d: Denial): AnthropicError {
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

/** Parses a Messages request body enough to decide on it: a JSON object naming a model. */
function parseMessagesBody(body: Buffer): { model: string; maxTokens: number } | AnthropicError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return errors.invalidRequest('the request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return errors.invalidRequest('the request body must be a JSON object');
  }
  const model = (parsed as { model?: unknown }).model;
  if (typeof model !== 'string' || !model) return errors.invalidRequest('model: field required');
  const maxTokens = (parsed as { max_tokens?: unknown }).max_tokens;
  const valid = typeof maxTokens === 'number' && Number.isSafeInteger(maxTokens) && maxTokens > 0;
  return { model, maxTokens: valid ? maxTokens : 0 };
}

/**
 * POST /v1/messages: authenticate, read and check the body, authorise (posture, policy,
 * audited decision), fetch the real key from the vault, and relay the upstream response
 * byte for byte. Every allowed request ends with an outcome event.
 */
export function createMessagesRoute(deps: MessagesRouteDeps) {
  const { chain, logger } = deps;

  return async function messages(
    req: IncomingMessage,
    res: ServerResponse,
    facts: RequestFacts,
    pathWithQuery: string,
  ) {
    const started = performance.now();
    const presented = presentedCredentials(req.headers);
    if (!presented.apiKey) return sendAnthropicError(res, facts.requestId, errors.missingKey());

    const auth = await chain.authenticate(presented, facts, ACTION);
    if (!auth.ok) return sendAnthropicError(res, facts.requestId, denialError(auth.denial));
    const principal = auth.principal;

    let body: Buffer;
    try {
      body = await readBody(req, deps.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        res.setHeader('connection', 'close');
        return sendAnthropicError(res, facts.requestId, errors.tooLarge(deps.maxBodyBytes));
      }
      throw err;
    }
    const parsed = parseMessagesBody(body);
    if ('status' in parsed) return sendAnthropicError(res, facts.requestId, parsed);

    const authz = await chain.authorize(
      principal,
      auth.us,
      facts,
      ACTION,
      { type: 'model', id: parsed.model, patKeyId: principal.patKeyId },
      parsed.maxTokens,
    );
    if (!authz.ok) return sendAnthropicError(res, facts.requestId, denialError(authz.denial));

    const outcomeBase = {
      requestId: facts.requestId,
      product: Product.PAT,
      actor: actorOf(principal),
      action: ACTION,
      resource: `model:${parsed.model}`,
    };
    const publishOutcome = (outcome: OutcomeFields) => {
      const env = outcomeEnvelope(principal.orgId, {
        ...outcomeBase,
        latencyUs: Math.round((performance.now() - started) * 1000),
        ...outcome,
      });
      deps.bus.publish(env, deps.auditAckTimeoutMs).catch((err: unknown) => {
        logger.error({ err, requestId: facts.requestId }, 'outcome event not acknowledged');
      });
    };

    let apiKey: string;
    try {
      const resolved = await timed(deps.stages, 'vault', () =>
        deps.vault.resolveCredential(
          {
            decisionToken: authz.allowed.decisionToken,
            orgId: principal.orgId,
            credentialRef: authz.allowed.credentialRef,
            requestId: facts.requestId,
          },
          { timeoutMs: deps.hopTimeoutMs },
        ),
      );
      const secret = resolved.value.material?.secret;
      if (!secret?.length) throw new Error('vault returned no secret');
      apiKey = Buffer.from(secret).toString('utf8');
      secret.fill(0);
    } catch (err) {
      logger.warn(
        { err, requestId: facts.requestId },
        'vault did not release the credential; failing closed',
      );
      const e = errors.failedClosed();
      sendAnthropicError(res, facts.requestId, e);
      publishOutcome({
        statusCode: e.status,
        errorType: `${Hop[Hop.VAULT].toLowerCase()}_unavailable`,
      });
      return;
    }

    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const upstreamStarted = performance.now();
    let upstream: IncomingMessage;
    try {
      upstream = await deps.upstream.forward({
        path: pathWithQuery,
        // The request id lets the upstream's logs be joined to ours; it carries nothing else.
        headers: { ...upstreamHeaders(req.headers), 'x-fortress-request-id': facts.requestId },
        body,
        apiKey,
        signal: abort.signal,
      });
    } catch (err) {
      const aborted = abort.signal.aborted;
      logger.warn({ err, requestId: facts.requestId, aborted }, 'upstream request failed');
      const e = errors.upstreamUnavailable();
      if (!aborted) sendAnthropicError(res, facts.requestId, e);
      publishOutcome({
        statusCode: aborted ? 499 : e.status,
        errorType: 'upstream_unavailable',
        clientAborted: aborted,
      });
      return;
    }

    const tap = createUsageTap(
      String(upstream.headers['content-type'] ?? ''),
      String(upstream.headers['content-encoding'] ?? ''),
    );
    res.writeHead(upstream.statusCode ?? 502, {
      ...clientHeaders(upstream.headers),
      'x-fortress-request-id': facts.requestId,
    });
    upstream.on('data', (chunk: Buffer) => {
      tap.write(chunk);
      if (!res.write(chunk)) {
        upstream.pause();
        res.once('drain', () => upstream.resume());
      }
    });
    const finish = (clientAborted: boolean) => {
      const upstreamUs = Math.round((performance.now() - upstreamStarted) * 1000);
      deps.stages.record(upstreamUs / 1000, { stage: 'upstream' });
      publishOutcome({
        statusCode: upstream.statusCode ?? 0,
        upstreamLatencyUs: upstreamUs,
        usage: tap.usage(),
        upstreamRequestId: String(upstream.headers['request-id'] ?? ''),
        clientAborted,
      });
    };
    upstream.on('end', () => {
      res.end();
      finish(false);
    });
    upstream.on('error', (err) => {
      logger.warn({ err, requestId: facts.requestId }, 'upstream response interrupted');
      res.destroy();
      finish(abort.signal.aborted);
    });
  };
}
