import type { Client } from '@connectrpc/connect';
import type { Histogram } from '@opentelemetry/api';
import { Decision, Tier, type Reason } from '@fortress/proto/common/v1/common_pb';
import type { PolicyService } from '@fortress/proto/policy/v1/policy_pb';
import type { SecretFields, VaultService } from '@fortress/proto/vault/v1/vault_pb';
import { SESSION_ACTION } from '@fortress/kit/decision-token';
import type { Logger } from '@fortress/kit/log';
import type { ArchiveKey } from '../archive/archive-writer.js';
import type { Allowed, DecisionChain, RequestFacts } from './decision-chain.js';
import { timed } from './stage-timer.js';

/** The vault calls a request's session must outlive (credential, archive key), and one spare. */
const SESSION_HOPS = 3;

/** The decision to open a session could not be audited: the request fails closed. */
export class SessionNotAudited extends Error {
  constructor() {
    super('the vault session decision could not be audited');
    this.name = 'SessionNotAudited';
  }
}

/** Policy would not let the vault open a Zero Trust session for this caller. */
export class SessionRefused extends Error {
  constructor(readonly reason: Reason | undefined) {
    super(reason?.message ?? 'a vault session was refused');
    this.name = 'SessionRefused';
  }
}

/** What the vault released for one request. */
export interface Released {
  kind: number;
  version: number;
  material: SecretFields;
  /**
   * A Zero Trust request's archive key, opened in its session (asked for with `archiveKey`):
   * the archive seals this request's record with it and then zeroes it. Other tiers' records
   * are sealed with the org's key the archive fetches itself.
   */
  archiveKey?: ArchiveKey;
}

/** What releasing needs. */
export interface CredentialReleaseDeps {
  vault: Client<typeof VaultService>;
  policy: Client<typeof PolicyService>;
  /** Audits the session decision before it is acted on. */
  chain: Pick<DecisionChain, 'recordPolicyDecision'>;
  stages: Histogram;
  logger: Logger;
  hopTimeoutMs: number;
}

/**
 * Fetches the credential an allowed request may use, as the vault's last step of the chain.
 *
 * A Zero Trust org's credentials open only inside a vault session: the org's private key is
 * fetched from the customer's KMS after identity and device checks, used, and zeroed. So for
 * a Zero Trust caller this asks policy for a session token (a verified user on a device posture
 * found compliant), opens a session for this request, resolves the credential (and, asked, the
 * archive key) in it, and closes it at once — the key lives in the vault for one request.
 * The session decision is audited like any other before it is acted on.
 * Throws SessionRefused when policy refuses the session, SessionNotAudited when its decision
 * could not be stored, and the vault's errors as they are.
 */
export function createCredentialRelease(deps: CredentialReleaseDeps) {
  const { vault, logger } = deps;
  const call = { timeoutMs: deps.hopTimeoutMs };

  const openSession = async (allowed: Allowed, facts: RequestFacts): Promise<string> => {
    const { principal } = allowed;
    const started = performance.now();
    const d = await deps.policy.decide(
      {
        principal,
        action: SESSION_ACTION,
        context: {
          requestId: facts.requestId,
          clientIp: facts.clientIp,
          userAgent: facts.userAgent,
          product: facts.product,
        },
        deviceCompliant: allowed.deviceCompliant,
      },
      call,
    );
    const allow = d.decision === Decision.ALLOW && d.decisionToken !== '';
    // Like every decision, audited before it is acted on (a refusal too).
    const stored = await deps.chain.recordPolicyDecision(principal, facts, SESSION_ACTION, {
      allow,
      reasons: d.reasons,
      policyUs: Math.round((performance.now() - started) * 1000),
    });
    if (!stored) throw new SessionNotAudited();
    if (!allow) throw new SessionRefused(d.reasons[0]);
    const opened = await vault.openSession(
      {
        principal,
        decisionToken: d.decisionToken,
        requestId: facts.requestId,
        // Long enough for the two calls made in it; a session left open ends soon after.
        ttlMs: SESSION_HOPS * deps.hopTimeoutMs,
      },
      call,
    );
    return opened.sessionId;
  };

  const resolve = async (
    allowed: Allowed,
    facts: RequestFacts,
    version: number,
    sessionId: string,
    archiveKey: boolean,
  ): Promise<Released> => {
    const { principal } = allowed;
    const r = await vault.resolveCredential(
      {
        decisionToken: allowed.decisionToken,
        orgId: principal.orgId,
        credentialRef: allowed.credentialRef,
        requestId: facts.requestId,
        sessionId,
        version,
      },
      call,
    );
    if (!r.material?.secret.length) throw new Error('vault returned no secret');
    const released: Released = { kind: r.kind, version: r.version, material: r.material };
    if (archiveKey) {
      try {
        const k = await vault.archiveKey(
          { orgId: principal.orgId, sessionId, subjectId: principal.subjectId },
          call,
        );
        released.archiveKey = { id: k.keyId, bytes: k.key };
      } catch (err) {
        r.material.secret.fill(0);
        for (const v of Object.values(r.material.fields)) v.fill(0);
        throw err;
      }
    }
    return released;
  };

  return async function release(
    allowed: Allowed,
    facts: RequestFacts,
    opts: {
      /** A pinned version of the credential; 0 for the active one. */
      version?: number;
      /** Also release a Zero Trust request's archive key (see Released.archiveKey). */
      archiveKey?: boolean;
    } = {},
  ): Promise<Released> {
    const version = opts.version ?? 0;
    const { principal } = allowed;
    const { value } = await timed(deps.stages, 'vault', async () => {
      if (principal.tier !== Tier.ZERO_TRUST) return resolve(allowed, facts, version, '', false);
      const sessionId = await openSession(allowed, facts);
      try {
        return await resolve(allowed, facts, version, sessionId, opts.archiveKey ?? false);
      } finally {
        // Closing zeroes the org's private key in the vault; not waited for by the caller.
        vault
          .closeSession({ orgId: principal.orgId, sessionId }, call)
          .catch((err: unknown) =>
            logger.warn(
              { err, requestId: facts.requestId },
              'vault session not closed; it ends at its lifetime',
            ),
          );
      }
    });
    return value;
  };
}

/** Releases an allowed request's credential. */
export type CredentialRelease = ReturnType<typeof createCredentialRelease>;
