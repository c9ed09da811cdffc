import type { IncomingMessage, ServerResponse } from 'node:http';
import { timestampDate, timestampNow } from '@bufbuild/protobuf/wkt';
import type { Client } from '@connectrpc/connect';
import type { Histogram } from '@opentelemetry/api';
import { Hop } from '@fortress/proto/common/v1/common_pb';
import type { IdentityService } from '@fortress/proto/identity/v1/identity_pb';
import type { EventBus } from '@fortress/kit/event-bus';
import type { Logger } from '@fortress/kit/log';
import { decisionEnvelope } from '../chain/audit-events.js';
import type { RequestFacts } from '../chain/decision-chain.js';
import { timed } from '../chain/stage-timer.js';
import { errors, sendAnthropicError } from '../http/anthropic-error.js';
import { presentedCredentials } from '../http/credentials.js';

/** The action an exchange is audited under. */
export const TOKEN_EXCHANGE_ACTION = 'pat:token.exchange';

/** What the exchange route needs. */
export interface TokenRouteDeps {
  identity: Client<typeof IdentityService>;
  bus: EventBus;
  logger: Logger;
  stages: Histogram;
  hopTimeoutMs: number;
  auditAckTimeoutMs: number;
}

/**
 * `POST /v1/fortress/token`: exchanges the org key (`x-api-key`) and an IdP token
 * (`Authorization: Bearer`) for a short-lived Fortress token, so that an SDK — which sends
 * one credential — can act for the user: `{"token": "fk_tok_…", "expires_at": "<RFC 3339>"}`.
 * The request has no body (any is drained unread). Identity decides; the decision is audited
 * under the org, allow or deny, before the answer leaves; a refusal is a 401
 * authentication_error and an identity that cannot decide (its IdP unreachable) a 503.
 */
export function createTokenRoute(deps: TokenRouteDeps) {
  const { logger } = deps;

  return async function token(
    req: IncomingMessage,
    res: ServerResponse,
    facts: RequestFacts,
  ): Promise<void> {
    req.resume();
    const presented = presentedCredentials(req.headers);
    if (!presented.apiKey) return sendAnthropicError(res, facts.requestId, errors.missingKey());

    let exchanged;
    try {
      exchanged = await timed(deps.stages, 'identity', () =>
        deps.identity.exchangeToken(
          {
            apiKey: presented.apiKey,
            idpToken: presented.idpToken,
            context: {
              requestId: facts.requestId,
              clientIp: facts.clientIp,
              userAgent: facts.userAgent,
              product: facts.product,
              receivedAt: timestampNow(),
            },
          },
          { timeoutMs: deps.hopTimeoutMs },
        ),
      );
    } catch (err) {
      logger.warn({ err, requestId: facts.requestId }, 'identity unavailable; no token issued');
      return sendAnthropicError(res, facts.requestId, errors.failedClosed());
    }
    const answer = exchanged.value;
    const issued = answer.token !== '' && answer.expiresAt !== undefined;
    const orgId = answer.principal?.orgId;
    if (orgId) {
      try {
        await timed(deps.stages, 'audit_publish', () =>
          deps.bus.publish(
            decisionEnvelope({
              orgId,
              requestId: facts.requestId,
              product: facts.product,
              principal: issued ? answer.principal : undefined,
              action: TOKEN_EXCHANGE_ACTION,
              resource: issued ? `org_key:${answer.principal?.apiKeyId ?? ''}` : '',
              allow: issued,
              decidedBy: Hop.IDENTITY,
              reasons: answer.reason ? [answer.reason] : [],
              policyVersion: '',
              clientIp: facts.clientIp,
              identityUs: exchanged.us,
              postureUs: 0,
              policyUs: 0,
              decideUs: exchanged.us,
            }),
            deps.auditAckTimeoutMs,
          ),
        );
      } catch (err) {
        // Not audited, so not answered: a token nobody recorded must not leave.
        logger.error({ err, requestId: facts.requestId }, 'exchange not audited; failing closed');
        return sendAnthropicError(res, facts.requestId, errors.failedClosed());
      }
    }
    if (!issued || !answer.expiresAt) {
      return sendAnthropicError(
        res,
        facts.requestId,
        errors.unauthenticated(answer.reason?.message ?? 'not authenticated'),
      );
    }
    const body = JSON.stringify({
      token: answer.token,
      expires_at: timestampDate(answer.expiresAt).toISOString(),
    });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      // A credential: no cache may keep it.
      'cache-control': 'no-store',
      'x-fortress-request-id': facts.requestId,
    });
    res.end(body);
  };
}
