import { create } from '@bufbuild/protobuf';
import { timestampDate, timestampNow } from '@bufbuild/protobuf/wkt';
import type { Client } from '@connectrpc/connect';
import type { Histogram } from '@opentelemetry/api';
import {
  Decision,
  Hop,
  ReasonSchema,
  type Principal,
  type Product,
  type Reason,
} from '@fortress/proto/common/v1/common_pb';
import type { IdentityService } from '@fortress/proto/identity/v1/identity_pb';
import { PostureStatus, type PostureService } from '@fortress/proto/posture/v1/posture_pb';
import type { Obligations, PolicyService } from '@fortress/proto/policy/v1/policy_pb';
import type { EventBus } from '@fortress/kit/event-bus';
import type { Logger } from '@fortress/kit/log';
import { decisionEnvelope } from './audit-events.js';
import { timed } from './stage-timer.js';

/** Why the chain said no, in protocol-neutral terms; each front end maps it to its wire format. */
export type DenialKind =
  'unauthenticated' | 'device_noncompliant' | 'policy_denied' | 'rate_limited' | 'unavailable';

/** A refusal, already audited when the org was known. */
export interface Denial {
  kind: DenialKind;
  hop: Hop;
  message: string;
  reasons: Reason[];
  deviceId?: string;
  /** When a rate-limited caller may retry. */
  retryAfter?: Date;
  /** The caller must not retry (e.g. a spend cap): retrying cannot succeed. */
  final?: boolean;
}

/** The request-level facts every hop sees. */
export interface RequestFacts {
  requestId: string;
  product: Product;
  clientIp: string;
  userAgent: string;
}

/** An allowed request: who, what the decision token binds, and how long deciding took. */
export interface Allowed {
  principal: Principal;
  decisionToken: string;
  credentialRef: string;
  policyVersion: string;
  /** The quota reservation to settle with the actual amounts ("" when nothing was reserved). */
  reservationId: string;
  /** Clamp max_tokens to this when non-zero. */
  maxTokensClamp: number;
  /** Everything the allow obliges the edge to honour (redaction, connectors, …). */
  obligations: Obligations | undefined;
  /** Posture found the caller's device compliant (Zero Trust; other tiers need no device). */
  deviceCompliant: boolean;
}

/** What a request may ask of the policy beyond its resource: its size and worst-case cost. */
export interface RequestDemand {
  /** The max_tokens the request asks for (0 when it names none). */
  maxTokens: number;
  spendMicrousd: number;
  tokens: number;
}

const NO_DEMAND: RequestDemand = { maxTokens: 0, spendMicrousd: 0, tokens: 0 };

/** The clients and settings of the chain. */
export interface DecisionChainDeps {
  identity: Client<typeof IdentityService>;
  posture: Client<typeof PostureService>;
  policy: Client<typeof PolicyService>;
  bus: EventBus;
  logger: Logger;
  stages: Histogram;
  hopTimeoutMs: number;
  auditAckTimeoutMs: number;
}

const unavailable = (hop: Hop): Denial => ({
  kind: 'unavailable',
  hop,
  message: 'a dependency of the access decision is unavailable',
  reasons: [
    create(ReasonSchema, {
      code: 'dependency_unavailable',
      message: `${Hop[hop].toLowerCase()} unavailable`,
      ruleId: 'fail-closed',
    }),
  ],
});

/** Denials no retry can overcome: the client is told not to retry. */
const HARD_STOPS = new Set(['spend_cap_reached', 'pat_key_revoked']);

/** What kind of denial a policy deny is, from its first reason's code (a hard stop first). */
function policyDenial(reasons: Reason[], retryAfter: Date | undefined): Denial {
  // A hard stop (a revoked key, a spent cap) speaks for the denial whatever else denied it:
  // it is the one reason that tells the client retrying cannot help.
  const first = reasons.find((r) => HARD_STOPS.has(r.code)) ?? reasons[0];
  const message = first?.message ?? 'denied by policy';
  switch (first?.code) {
    case 'rate_limited':
    case 'token_rate_limited':
      return {
        kind: 'rate_limited',
        hop: Hop.POLICY,
        message,
        reasons,
        ...(retryAfter ? { retryAfter } : {}),
      };
    case 'dependency_unavailable':
      return { kind: 'unavailable', hop: Hop.POLICY, message, reasons };
    case 'spend_cap_reached':
    case 'pat_key_revoked':
      return { kind: 'policy_denied', hop: Hop.POLICY, message, reasons, final: true };
    default:
      return { kind: 'policy_denied', hop: Hop.POLICY, message, reasons };
  }
}

/**
 * The strict chain every gateway request goes through: identity → posture → policy, each a
 * gRPC call with a deadline, then the decision event published to JetStream and acked.
 * Nothing is allowed unless every step says so; a failure anywhere is a denial (fail closed).
 * Every decision on a known org is audited before the caller may act on it.
 */
export function createDecisionChain(deps: DecisionChainDeps) {
  const { logger } = deps;
  const ctxOf = (facts: RequestFacts) => ({
    requestId: facts.requestId,
    clientIp: facts.clientIp,
    userAgent: facts.userAgent,
    product: facts.product,
    receivedAt: timestampNow(),
  });

  /** Publishes a decision and waits for the ack; false when it could not be stored. */
  const audit = async (record: Parameters<typeof decisionEnvelope>[0]): Promise<boolean> => {
    try {
      await timed(deps.stages, 'audit_publish', () =>
        deps.bus.publish(decisionEnvelope(record), deps.auditAckTimeoutMs),
      );
      return true;
    } catch (err) {
      logger.error(
        { err, requestId: record.requestId },
        'decision event not acknowledged; failing closed',
      );
      return false;
    }
  };

  /** Audits a decision about an authenticated caller taken outside `authorize`. */
  const auditOutsideChain = (
    principal: Principal,
    facts: RequestFacts,
    action: string,
    d: { allow: boolean; decidedBy: Hop; reasons: Reason[]; identityUs: number; policyUs: number },
  ) =>
    audit({
      orgId: principal.orgId,
      requestId: facts.requestId,
      product: facts.product,
      principal,
      action,
      resource: '',
      allow: d.allow,
      decidedBy: d.decidedBy,
      reasons: d.reasons,
      policyVersion: '',
      clientIp: facts.clientIp,
      identityUs: d.identityUs,
      postureUs: 0,
      policyUs: d.policyUs,
      decideUs: d.identityUs + d.policyUs,
    });

  return {
    /** Step 1: who is calling. A failure on a known org is audited. */
    async authenticate(
      presented: { apiKey: string; idpToken: string; sessionToken?: string },
      facts: RequestFacts,
      action: string,
    ): Promise<{ ok: true; principal: Principal; us: number } | { ok: false; denial: Denial }> {
      let res;
      try {
        res = await timed(deps.stages, 'identity', () =>
          deps.identity.authenticate(
            {
              apiKey: presented.apiKey,
              idpToken: presented.idpToken,
              sessionToken: presented.sessionToken ?? '',
              context: ctxOf(facts),
            },
            { timeoutMs: deps.hopTimeoutMs },
          ),
        );
      } catch (err) {
        logger.warn({ err, requestId: facts.requestId }, 'identity unavailable');
        return { ok: false, denial: unavailable(Hop.IDENTITY) };
      }
      const answer = res.value;
      if (answer.authenticated && answer.principal)
        return { ok: true, principal: answer.principal, us: res.us };
      const reason =
        answer.reason ??
        create(ReasonSchema, { code: 'unauthenticated', message: 'not authenticated' });
      const denial: Denial = {
        kind: 'unauthenticated',
        hop: Hop.IDENTITY,
        message: reason.message,
        reasons: [reason],
      };
      const orgId = answer.principal?.orgId;
      if (orgId) {
        const stored = await audit({
          orgId,
          requestId: facts.requestId,
          product: facts.product,
          principal: undefined,
          action,
          resource: '',
          allow: false,
          decidedBy: Hop.IDENTITY,
          reasons: [reason],
          policyVersion: '',
          clientIp: facts.clientIp,
          identityUs: res.us,
          postureUs: 0,
          policyUs: 0,
          decideUs: res.us,
        });
        if (!stored) return { ok: false, denial: unavailable(Hop.EDGE) };
      }
      return { ok: false, denial };
    },

    /**
     * Audits a request the edge itself refused before any decision (e.g. a malformed body) for
     * a caller it authenticated; false when the record could not be stored.
     */
    refuse(
      principal: Principal,
      identityUs: number,
      facts: RequestFacts,
      action: string,
      reason: Reason,
    ): Promise<boolean> {
      return auditOutsideChain(principal, facts, action, {
        allow: false,
        decidedBy: Hop.EDGE,
        reasons: [reason],
        identityUs,
        policyUs: 0,
      });
    },

    /**
     * Audits a policy decision a request needed after its own, before acting on it (opening a
     * Zero Trust vault session); false when the record could not be stored.
     */
    recordPolicyDecision(
      principal: Principal,
      facts: RequestFacts,
      action: string,
      decision: { allow: boolean; reasons: Reason[]; policyUs: number },
    ): Promise<boolean> {
      return auditOutsideChain(principal, facts, action, {
        ...decision,
        decidedBy: Hop.POLICY,
        identityUs: 0,
      });
    },

    /** Steps 2 and 3, then the audit: device posture, the policy decision, the decision event. */
    async authorize(
      principal: Principal,
      identityUs: number,
      facts: RequestFacts,
      action: string,
      resource: { type: string; id: string; patKeyId: string; destructive?: boolean },
      demand: RequestDemand = NO_DEMAND,
      /** Whether the allow must come with a credential to use (false for listings). */
      needsCredential = resource.type !== 'admin',
    ): Promise<{ ok: true; allowed: Allowed } | { ok: false; denial: Denial }> {
      const context = ctxOf(facts);
      const record = {
        orgId: principal.orgId,
        requestId: facts.requestId,
        product: facts.product,
        principal,
        action,
        resource: `${resource.type}:${resource.id}`,
        clientIp: facts.clientIp,
        identityUs,
        postureUs: 0,
        policyUs: 0,
        policyVersion: '',
      };
      const deny = async (denial: Denial): Promise<{ ok: false; denial: Denial }> => {
        const stored = await audit({
          ...record,
          allow: false,
          decidedBy: denial.hop,
          reasons: denial.reasons,
          decideUs: identityUs + record.postureUs + record.policyUs,
        });
        return { ok: false, denial: stored ? denial : unavailable(Hop.EDGE) };
      };

      let posture;
      try {
        posture = await timed(deps.stages, 'posture', () =>
          deps.posture.check({ principal, context }, { timeoutMs: deps.hopTimeoutMs }),
        );
      } catch (err) {
        logger.warn({ err, requestId: facts.requestId }, 'posture unavailable');
        return deny(unavailable(Hop.POSTURE));
      }
      record.postureUs = posture.us;
      const ps = posture.value.status;
      if (ps !== PostureStatus.NOT_REQUIRED && ps !== PostureStatus.COMPLIANT) {
        const reason =
          posture.value.reason ??
          create(ReasonSchema, { code: 'device_noncompliant', message: 'device is not compliant' });
        return deny({
          kind: 'device_noncompliant',
          hop: Hop.POSTURE,
          message: reason.message,
          reasons: [reason],
          deviceId: principal.deviceId,
        });
      }

      let decision;
      try {
        decision = await timed(deps.stages, 'policy', () =>
          deps.policy.decide(
            {
              principal,
              action,
              resource: {
                type: resource.type,
                id: resource.id,
                patKeyId: resource.patKeyId,
                connectorId: resource.type === 'tool' ? (resource.id.split('__')[0] ?? '') : '',
                destructive: resource.destructive ?? false,
              },
              context,
              maxTokens: demand.maxTokens,
              demand: {
                spendMicrousd: BigInt(demand.spendMicrousd),
                tokens: BigInt(demand.tokens),
              },
            },
            { timeoutMs: deps.hopTimeoutMs },
          ),
        );
      } catch (err) {
        logger.warn({ err, requestId: facts.requestId }, 'policy unavailable');
        return deny(unavailable(Hop.POLICY));
      }
      record.policyUs = decision.us;
      const d = decision.value;
      record.policyVersion = d.policyVersion;
      // A gateway allow must carry the token that lets the vault release its credential; an
      // admin action or a listing touches no credential, so its allow is the decision alone.
      const complete =
        !needsCredential || (d.decisionToken !== '' && !!d.obligations?.credentialRef);
      if (d.decision !== Decision.ALLOW || !complete) {
        const reasons = d.reasons.length
          ? d.reasons
          : [
              create(ReasonSchema, {
                code: 'denied',
                message: 'denied by policy',
                ruleId: 'default-deny',
              }),
            ];
        return deny(policyDenial(reasons, d.retryAfter ? timestampDate(d.retryAfter) : undefined));
      }

      const stored = await audit({
        ...record,
        allow: true,
        decidedBy: Hop.POLICY,
        reasons: d.reasons,
        decideUs: identityUs + record.postureUs + record.policyUs,
      });
      const reservationId = d.obligations?.reservation?.id ?? '';
      if (!stored) {
        // Not acted on, so nothing was consumed: give the reservation back now rather than
        // holding the quota until its lease runs out.
        if (reservationId) {
          deps.policy
            .settle(
              { orgId: principal.orgId, reservationId, spendMicrousd: 0n, tokens: 0n },
              { timeoutMs: deps.hopTimeoutMs },
            )
            .catch((err: unknown) => {
              logger.warn({ err, requestId: facts.requestId }, 'reservation not released');
            });
        }
        return { ok: false, denial: unavailable(Hop.EDGE) };
      }
      return {
        ok: true,
        allowed: {
          principal,
          decisionToken: d.decisionToken,
          credentialRef: d.obligations?.credentialRef ?? '',
          policyVersion: d.policyVersion,
          reservationId,
          maxTokensClamp: d.obligations?.maxTokensClamp ?? 0,
          obligations: d.obligations,
          deviceCompliant: ps === PostureStatus.COMPLIANT,
        },
      };
    },
  };
}

/** The decision chain. */
export type DecisionChain = ReturnType<typeof createDecisionChain>;
