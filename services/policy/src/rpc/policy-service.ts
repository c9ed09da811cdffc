import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import { Decision } from '@fortress/proto/common/v1/common_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import {
  DecideResponseSchema,
  ExplainResponseSchema,
  RedactionKind,
  SettleResponseSchema,
  SimulateResponseSchema,
  type DecideRequest,
  type SettleRequest,
  type PolicyService,
} from '@fortress/proto/policy/v1/policy_pb';
import {
  SESSION_ACTION,
  SESSION_CREDENTIAL_REF,
  signDecisionToken,
} from '@fortress/kit/decision-token';
import { InvalidArgumentError } from '@fortress/kit/errors';
import type { Logger } from '@fortress/kit/log';
import { requireId } from '@fortress/kit/validate';
import { priceOf, type PriceBook } from '@fortress/pricing/price-book';
import type { CryptoKey, KeyObject } from 'jose';
import type { CedarEngine } from '../adapters/cedar/cedar-engine.js';
import type { QuotaStore } from '../adapters/redis/quota-store.js';
import { cedarRequest, type DecisionInput } from '../domain/cedar-request.js';
import { compileModel, namedResources } from '../domain/compile.js';
import {
  CATALOG_ACTION,
  TOOLS_LIST_ACTION,
  decide,
  decideCatalog,
  decideToolCatalog,
  gateConnector,
  type DecisionReason,
  type Verdict,
} from '../domain/decide.js';
import type { OrgModel } from '../domain/model.js';
import type { LoadedPolicy, PolicyCache } from '../domain/policy-cache.js';
import { quotaPlan, type QuotaClaim } from '../domain/quota-plan.js';
import { decideSession } from '../domain/session-decision.js';
import { decisionInput } from './decision-input.js';
import { modelFrom } from './model-from-proto.js';
import { connectorToProto } from './model-to-proto.js';
import { notificationEnvelope } from './policy-events.js';

/** What the decision point needs. */
export interface PolicyRpcDeps {
  cache: PolicyCache;
  engine: CedarEngine;
  quotas: QuotaStore;
  signingKey: { key: CryptoKey | KeyObject; keyId: string };
  tokenTtlSeconds: number;
  /** Prices models: a model without a price is never allowed (it could not be capped). */
  priceBook: PriceBook;
  /** Publishes a notification (best effort: the decision does not wait on it). */
  notify: (envelope: EventEnvelope) => void;
  logger: Logger;
  now?: () => Date;
}

const ACTION_FOR = { model: 'pat:messages.create', tool: 'mcp:tools.call' } as const;

/** The deny reason when a quota does not fit, and the notification it triggers. */
function quotaDenial(claim: QuotaClaim): { reason: DecisionReason; event: string } {
  const reset = new Date(claim.windowEndMs).toISOString();
  if (claim.kind === 'spend') {
    return {
      reason: {
        code: 'spend_cap_reached',
        message: 'the monthly spend cap of this PAT key is reached',
        ruleId: claim.ruleId,
      },
      event: 'pat.spend_cap_reached',
    };
  }
  return {
    reason: {
      code: claim.kind === 'tokens' ? 'token_rate_limited' : 'rate_limited',
      message: `rate limit exceeded; retry after ${reset}`,
      ruleId: claim.ruleId,
    },
    event: 'user.overage',
  };
}

/** Decides one request against a loaded (or simulated) policy, without quotas. */
function verdictOf(
  input: DecisionInput,
  model: OrgModel,
  zones: readonly string[],
  authorize: Parameters<typeof decide>[2],
): Verdict {
  return gateConnector(decide(input, model, authorize, cedarRequest(input, zones)), input, model);
}

/** The PolicyService handlers: decisions, settlements, explanations and simulations. */
export function createPolicyRpc(deps: PolicyRpcDeps): Partial<ServiceImpl<typeof PolicyService>> {
  const now = deps.now ?? (() => new Date());
  const stateful = (orgId: string) => (r: Parameters<CedarEngine['authorize']>[1]) =>
    deps.engine.authorize(orgId, r);
  const denied = (reasons: DecisionReason[], policy: LoadedPolicy, retryAfter?: Date) =>
    create(DecideResponseSchema, {
      decision: Decision.DENY,
      reasons,
      policyVersion: String(policy.version),
      ...(retryAfter ? { retryAfter: timestampFromDate(retryAfter) } : {}),
    });

  /** A Zero Trust session: no policy version involved; the token carries device and posture. */
  const decideSessionRequest = async (req: DecideRequest, requestId: string) => {
    const principal = req.principal;
    if (!principal?.orgId)
      throw new InvalidArgumentError('principal.org_id', 'principal.org_id is required');
    const verdict = decideSession(principal, req.deviceCompliant);
    if (!verdict.allow)
      return create(DecideResponseSchema, { decision: Decision.DENY, reasons: verdict.reasons });
    const token = await signDecisionToken(
      deps.signingKey.key,
      deps.signingKey.keyId,
      {
        orgId: principal.orgId,
        subjectId: principal.subjectId,
        credentialRef: SESSION_CREDENTIAL_REF,
        requestId,
        action: SESSION_ACTION,
      },
      Math.min(deps.tokenTtlSeconds, 60),
      { dev: principal.deviceId, pst: 'compliant' },
    );
    return create(DecideResponseSchema, {
      decision: Decision.ALLOW,
      reasons: verdict.reasons,
      decisionToken: token,
      obligations: { credentialRef: SESSION_CREDENTIAL_REF },
    });
  };

  return {
    async decide(req) {
      const requestId = req.context?.requestId;
      if (!requestId)
        throw new InvalidArgumentError('context.request_id', 'context.request_id is required');
      if (req.action === SESSION_ACTION) return decideSessionRequest(req, requestId);
      const input = decisionInput(req, now());
      const orgId = input.principal.orgId;
      const policy = await deps.cache.ensure(orgId);
      const verdict =
        input.action === CATALOG_ACTION && input.resourceId === ''
          ? decideCatalog(input, policy.model)
          : input.action === TOOLS_LIST_ACTION
            ? decideToolCatalog(input, policy.model)
            : verdictOf(input, policy.model, policy.compiled.zones, stateful(orgId));
      if (!verdict.allow) {
        if (
          input.action === 'pat:messages.create' &&
          verdict.reasons.some((r) => r.code === 'model_blocked')
        ) {
          deps.notify(
            notificationEnvelope(orgId, 'pat.model_blocked', {
              patKeyId: input.principal.patKeyId,
              model: input.resourceId,
              requestId,
            }),
          );
        }
        return denied(verdict.reasons, policy);
      }
      const claims = quotaPlan(policy.model, input, {
        spendMicrousd: Number(req.demand?.spendMicrousd ?? 0n),
        tokens: Number(req.demand?.tokens ?? 0n),
      });
      let reservation: { id: string; leaseExpiresAt: Date } | undefined;
      if (
        input.action === 'pat:messages.create' &&
        !priceOf(deps.priceBook, input.resourceId, input.now)
      ) {
        return denied(
          [
            {
              code: 'model_unpriced',
              message: `model "${input.resourceId}" has no price in the price book, so its spend cannot be governed`,
              ruleId: 'price-book',
            },
          ],
          policy,
        );
      }
      if (claims.length > 0) {
        let result;
        try {
          result = await deps.quotas.reserve(claims);
        } catch (err) {
          deps.logger.warn({ err, orgId }, 'quota store unavailable; denying');
          return denied(
            [
              {
                code: 'dependency_unavailable',
                message: 'the quota store is unavailable',
                ruleId: 'fail-closed',
              },
            ],
            policy,
          );
        }
        if (!result.ok) {
          const { reason, event } = quotaDenial(result.claim);
          deps.notify(
            notificationEnvelope(orgId, event, {
              subjectId: input.principal.subjectId,
              ruleId: reason.ruleId,
              requestId,
            }),
          );
          return denied([reason], policy, new Date(result.claim.windowEndMs));
        }
        if (claims.some((c) => c.settle === 'later'))
          reservation = { id: result.reservationId, leaseExpiresAt: result.leaseExpiresAt };
      }
      const token = verdict.credentialRef
        ? await signDecisionToken(
            deps.signingKey.key,
            deps.signingKey.keyId,
            {
              orgId,
              subjectId: input.principal.subjectId,
              credentialRef: verdict.credentialRef,
              requestId,
              action: input.action,
            },
            deps.tokenTtlSeconds,
          )
        : '';
      return create(DecideResponseSchema, {
        decision: Decision.ALLOW,
        reasons: verdict.reasons,
        decisionToken: token,
        policyVersion: String(policy.version),
        obligations: {
          credentialRef: verdict.credentialRef,
          maxTokensClamp: verdict.maxTokensClamp,
          redaction: {
            kinds: verdict.redaction.kinds.map(
              (k) => RedactionKind[k.toUpperCase() as keyof typeof RedactionKind],
            ),
            custom: verdict.redaction.custom,
          },
          connectors: verdict.connectors.map(connectorToProto),
          ...(reservation
            ? {
                reservation: {
                  id: reservation.id,
                  spendMicrousd: req.demand?.spendMicrousd ?? 0n,
                  tokens: req.demand?.tokens ?? 0n,
                  leaseExpiresAt: timestampFromDate(reservation.leaseExpiresAt),
                },
              }
            : {}),
        },
      });
    },

    async settle(req) {
      return settleReservation(deps, req);
    },

    async explain(req) {
      if (!req.principal?.orgId)
        throw new InvalidArgumentError('principal.org_id', 'principal.org_id is required');
      if (req.resourceType && req.resourceType !== 'model' && req.resourceType !== 'tool') {
        throw new InvalidArgumentError(
          'resource_type',
          'resource_type must be "model", "tool" or empty',
        );
      }
      const orgId = req.principal.orgId;
      const policy = await deps.cache.ensure(orgId);
      const at = now();
      const candidates = (
        req.candidates.length
          ? req.candidates.map((c) => ({ type: c.type, id: c.id, destructive: c.destructive }))
          : namedResources(policy.model).map((r) => ({ ...r, destructive: false }))
      )
        .filter(
          (c): c is { type: 'model' | 'tool'; id: string; destructive: boolean } =>
            c.type === 'model' || c.type === 'tool',
        )
        .filter((c) => !req.resourceType || c.type === req.resourceType)
        .sort((a, b) => (a.type + a.id).localeCompare(b.type + b.id));
      const entitlements = candidates.map((c) => {
        const action = ACTION_FOR[c.type];
        const input = decisionInput(
          {
            principal: req.principal,
            action,
            resource: { type: c.type, id: c.id, destructive: c.destructive } as never,
            context: req.context,
            maxTokens: 0,
          },
          at,
        );
        const v = verdictOf(input, policy.model, policy.compiled.zones, stateful(orgId));
        return {
          resource: { type: c.type, id: c.id, destructive: c.destructive },
          action,
          allowed: v.allow,
          reasons: v.reasons,
        };
      });
      return create(ExplainResponseSchema, { entitlements, policyVersion: String(policy.version) });
    },

    async simulate(req) {
      const inner = req.request;
      if (!inner) throw new InvalidArgumentError('request', 'request is required');
      const input = decisionInput(inner, now());
      const model = req.proposed
        ? modelFrom(req.proposed)
        : (await deps.cache.ensure(input.principal.orgId)).model;
      let compiled;
      try {
        compiled = compileModel(model);
      } catch (err) {
        throw new InvalidArgumentError(
          'proposed',
          `the proposed policy does not compile: ${(err as Error).message}`,
        );
      }
      const problems = deps.engine.validate(compiled);
      if (problems.length)
        throw new InvalidArgumentError(
          'proposed',
          `the proposed policy does not validate: ${problems.join('; ')}`,
        );
      const v = verdictOf(input, model, compiled.zones, (r) =>
        deps.engine.authorizeOnce(compiled, r),
      );
      return create(SimulateResponseSchema, {
        decision: v.allow ? Decision.ALLOW : Decision.DENY,
        reasons: v.reasons,
      });
    },
  };
}

/**
 * Settles a reservation with the actual amounts (idempotent: a second settle of the same id
 * does nothing) and raises `pat.spend_threshold_reached` for the counters this settlement
 * pushed past their alert threshold. The Settle RPC and the outcome-stream backstop share it.
 */
export async function settleReservation(
  deps: Pick<PolicyRpcDeps, 'quotas' | 'cache' | 'notify'>,
  req: Pick<SettleRequest, 'orgId' | 'reservationId' | 'spendMicrousd' | 'tokens'>,
) {
  const orgId = requireId('org_id', req.orgId, 'org');
  if (!/^[0-9a-f-]{36}$/.test(req.reservationId))
    throw new InvalidArgumentError('reservation_id', 'reservation_id is not a reservation id');
  const result = await deps.quotas.settle(orgId, req.reservationId, {
    spend: Number(req.spendMicrousd),
    tokens: Number(req.tokens),
  });
  for (const ruleId of result.crossedAlert) {
    const [, patKeyId, kind] = ruleId.split('/');
    if (kind !== 'spend' || !patKeyId) continue;
    const policy = await deps.cache.ensure(orgId);
    const limits = policy.model.patLimits.find((l) => l.patKeyId === patKeyId);
    deps.notify(
      notificationEnvelope(orgId, 'pat.spend_threshold_reached', {
        patKeyId,
        ruleId,
        thresholdPercent: String(limits?.alertThresholdPercent ?? ''),
        spendCapMicrousd: String(limits?.monthlySpendCapMicrousd ?? ''),
      }),
    );
  }
  return create(SettleResponseSchema, { settled: result.settled });
}
