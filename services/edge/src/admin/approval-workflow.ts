import { fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { PrincipalSchema, type Principal } from '@fortress/proto/common/v1/common_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { newId } from '@fortress/kit/ids';
import type { Logger } from '@fortress/kit/log';
import type { RequestFacts } from '../chain/decision-chain.js';
import {
  objectIdOf,
  type AdminCall,
  type AdminResult,
  type AdminRoute,
  type AdminRunner,
} from './admin-api.js';
import { approvalEvent } from './approval-events.js';
import { parkedKindOf, secretFieldOf } from './approval-kinds.js';
import type { ApprovalRecord, ApprovalStore, Person } from './approval-store.js';
import { problemOf, problems, ProblemError } from './problem.js';

/** What the approval workflow needs. */
export interface ApprovalWorkflowDeps {
  store: ApprovalStore;
  runner: AdminRunner;
  /** Publishes a change event and resolves on JetStream's ack. */
  publish: (env: EventEnvelope) => Promise<void>;
  /** Whether an org's redaction profile "<role>/<connector>" has custom patterns now. */
  hasCustomRedaction: (orgId: string, key: string) => Promise<boolean>;
  logger: Logger;
  /** How long a parked change waits for its decision. */
  ttlMs: number;
  /** Pending approvals an org may have at once. */
  maxPending?: number;
  now?: () => Date;
}

/** An approval claimed for execution this long ago whose result never came: its edge died. */
export const ABANDONED_AFTER_MS = 5 * 60_000;

const person = (p: Principal): Person => ({ subject_id: p.subjectId, email: p.email });

/**
 * The approval workflow (S8): parks a change its org marks critical, and runs it — once, as
 * its requester — when a second admin approves it. The requester cannot approve their own
 * change; the approver must be allowed the change's admin action too; a change that fails when
 * run is recorded as failed with its problem. Every step is a change event.
 */
export function createApprovalWorkflow(deps: ApprovalWorkflowDeps) {
  const { store, runner, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const maxPending = deps.maxPending ?? 100;

  /** Where an approval stands now: a pending one past its time has expired. */
  const statusOf = (r: ApprovalRecord, at = now()) => {
    if (r.status === 'pending' && Date.parse(r.expires_at) <= at.getTime()) return 'expired';
    if (
      r.status === 'executing' &&
      Date.parse(r.decided_at ?? r.created_at) + ABANDONED_AFTER_MS <= at.getTime()
    )
      return 'failed';
    return r.status;
  };

  /** An approval as the API shows it (the requester's stored principal stays inside). */
  const view = (r: ApprovalRecord) => {
    const shown: Partial<ApprovalRecord> = { ...r };
    delete shown.requester;
    const status = statusOf(r);
    return {
      ...shown,
      status,
      ...(status === 'failed' && !r.problem
        ? {
            problem: {
              status: 500,
              code: 'outcome_unknown',
              title: 'Outcome unknown',
              detail: 'the edge running this change stopped before recording its result',
            },
          }
        : {}),
    };
  };

  const load = async (orgId: string, id: string) => {
    const got = await store.read(orgId, id);
    if (!got)
      throw new ProblemError(
        problems.notFound(`approval "${id}" does not exist`, 'approval_not_found'),
      );
    return got;
  };

  /** Refuses to decide an approval that is no longer pending. */
  const requireOpen = (r: ApprovalRecord) => {
    const status = statusOf(r);
    if (status === 'expired')
      throw new ProblemError(
        problems.conflict(
          `approval "${r.id}" expired at ${r.expires_at}; request the change again`,
          'approval_expired',
        ),
      );
    if (status !== 'pending')
      throw new ProblemError(
        problems.conflict(`approval "${r.id}" is already ${status}`, 'approval_already_decided'),
      );
  };

  /** Loses a compare-and-set: someone decided it first. */
  const lost = async (orgId: string, id: string): Promise<never> => {
    const { record } = await load(orgId, id);
    requireOpen(record);
    throw new ProblemError(
      problems.conflict(`approval "${id}" is being decided`, 'approval_already_decided'),
    );
  };

  const publishOrLog = (env: EventEnvelope, what: string) =>
    deps.publish(env).catch((err: unknown) => {
      logger.error({ err, orgId: env.orgId }, `${what} event not acknowledged`);
    });

  return {
    view,
    statusOf,

    /** Parks `call` when its org marks it critical (see ApprovalGate.intercept). */
    async intercept(
      route: AdminRoute,
      call: AdminCall,
      path: string,
    ): Promise<AdminResult | undefined> {
      const { admin } = call;
      const orgId = admin.orgId;
      const policy = await store.policyOf(orgId);
      if (policy.critical.length === 0) return undefined;
      const key = `${route.method} ${route.path}`;
      const kind = await parkedKindOf(key, call.params, call.body, {
        critical: policy.critical,
        hasCustomRedaction: (k) => deps.hasCustomRedaction(orgId, k),
      });
      if (!kind) return undefined;
      const secret = route.showsSecretOnce ? '(response)' : secretFieldOf(call.body);
      if (secret)
        throw new ProblemError(
          problems.unprocessable(
            `this change is critical in your org and must wait for approval, but it carries a secret ("${secret}") and a secret is never stored while it waits`,
            'approval_secret_refused',
          ),
        );
      await route.check?.(call);
      const at = now();
      const open = (await store.list(orgId)).filter((r) => statusOf(r, at) === 'pending');
      const body = (call.body ?? null) as JsonValue;
      const same = open.find(
        (r) =>
          r.requested_by.subject_id === admin.subjectId &&
          r.method === route.method &&
          r.path === path &&
          JSON.stringify(r.body) === JSON.stringify(body),
      );
      // The same change asked for again (a retry): the approval that already waits for it.
      if (same) return { status: 202, body: { approval: view(same) } };
      if (open.length >= maxPending)
        throw new ProblemError(
          problems.conflict(
            `your org has ${open.length} changes waiting for approval; decide some first`,
            'too_many_pending_approvals',
          ),
        );
      const record: ApprovalRecord = {
        id: newId('apr'),
        org_id: orgId,
        kind,
        status: 'pending',
        requested_by: person(admin),
        requester: toJson(PrincipalSchema, { ...admin, sessionId: '' }),
        route: key,
        method: route.method,
        path,
        params: [...call.params],
        query: call.query.toString(),
        body,
        created_at: at.toISOString(),
        expires_at: new Date(at.getTime() + deps.ttlMs).toISOString(),
      };
      // Audited before it exists: no ack, no approval (fail closed).
      try {
        await deps.publish(approvalEvent('requested', undefined, record));
      } catch (err) {
        logger.error({ err, orgId }, 'approval request event not acknowledged');
        throw new ProblemError(problems.unavailable());
      }
      await store.create(record);
      return { status: 202, body: { approval: view(record) } };
    },

    /**
     * Approves and runs a pending change as its requester, exactly once: the first approver to
     * win the compare-and-set runs it; everyone else is told it is decided.
     */
    async approve(approver: Principal, facts: RequestFacts, id: string) {
      const { record, revision } = await load(approver.orgId, id);
      requireOpen(record);
      if (record.requested_by.subject_id === approver.subjectId)
        throw new ProblemError(
          problems.forbidden(
            'the admin who requested a change cannot approve it; ask another admin',
            'self_approval',
          ),
        );
      const route = runner.route(record.route);
      if (!route) throw new Error(`approval ${id} names no route: ${record.route}`);
      const objectId = objectIdOf(route, record.params);
      // Two people who may each make the change: the approver must be allowed it too.
      await runner.authorizeAs(approver, facts, route.action, objectId);
      const claimed: ApprovalRecord = {
        ...record,
        status: 'executing',
        decided_by: person(approver),
        decided_at: now().toISOString(),
      };
      const rev = await store.replace(claimed, revision);
      if (rev === undefined) return lost(approver.orgId, id);
      try {
        await deps.publish(approvalEvent('approved', record, claimed));
      } catch (err) {
        logger.error({ err, orgId: approver.orgId }, 'approval event not acknowledged');
        // Not recorded, so not run: back to pending for a later try.
        await store.replace(record, rev).catch((e: unknown) => {
          logger.error({ err: e, orgId: approver.orgId, id }, 'approval not reopened');
        });
        throw new ProblemError(problems.unavailable());
      }
      let done: ApprovalRecord;
      try {
        const requester = fromJson(PrincipalSchema, record.requester);
        // The requester is decided again: a permission they lost meanwhile stops the change.
        const grant = await runner.authorizeAs(requester, facts, route.action, objectId);
        const result = await route.handle({
          facts,
          admin: requester,
          grant,
          params: record.params,
          query: new URLSearchParams(record.query),
          body: record.body ?? undefined,
          approvedBy: approver,
        });
        done = {
          ...claimed,
          status: 'approved',
          result: {
            status: result.status,
            ...(result.body === undefined ? {} : { body: result.body as JsonValue }),
          },
        };
      } catch (err) {
        const p = problemOf(err);
        if (p.status >= 500)
          logger.error({ err, orgId: approver.orgId, id }, 'approved change failed');
        done = {
          ...claimed,
          status: 'failed',
          problem: { status: p.status, code: p.code, title: p.title, detail: p.detail },
        };
        await publishOrLog(approvalEvent('failed', claimed, done), 'approval failure');
      }
      if ((await store.replace(done, rev).catch(() => undefined)) === undefined)
        logger.error({ orgId: approver.orgId, id }, 'approval result not stored');
      return done;
    },

    /** Rejects a pending change; the requester may withdraw their own. */
    async reject(admin: Principal, id: string, reason: string) {
      const { record, revision } = await load(admin.orgId, id);
      requireOpen(record);
      const rejected: ApprovalRecord = {
        ...record,
        status: 'rejected',
        decided_by: person(admin),
        decided_at: now().toISOString(),
        reason,
      };
      if ((await store.replace(rejected, revision)) === undefined) return lost(admin.orgId, id);
      await publishOrLog(approvalEvent('rejected', record, rejected), 'approval rejection');
      return rejected;
    },

    /** One approval of the org. */
    get: async (orgId: string, id: string) => (await load(orgId, id)).record,
    list: (orgId: string) => store.list(orgId),
  };
}

/** The approval workflow. */
export type ApprovalWorkflow = ReturnType<typeof createApprovalWorkflow>;
