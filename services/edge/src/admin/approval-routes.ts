import type { AdminRoute, AdminRunner, ApprovalGate } from './admin-api.js';
import { CRITICAL_KINDS, isCriticalKind, type CriticalKind } from './approval-kinds.js';
import type { ApprovalPolicy } from './approval-store.js';
import {
  createApprovalWorkflow,
  type ApprovalWorkflow,
  type ApprovalWorkflowDeps,
} from './approval-workflow.js';
import { adminChangeEvent } from './change-event.js';
import { problems, ProblemError } from './problem.js';

const STATUSES = new Set(['pending', 'executing', 'approved', 'rejected', 'expired', 'failed']);
const MAX_REASON = 500;

/** A JSON object body with only the named fields; anything else is a 400 naming the field. */
function objectBody(body: unknown, allowed: string[]): Record<string, unknown> {
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ProblemError(problems.badRequest('the body must be a JSON object'));
  const unknown = Object.keys(body).find((k) => !allowed.includes(k));
  if (unknown)
    throw new ProblemError(problems.badRequest(`field "${unknown}" is unknown`, unknown));
  return body as Record<string, unknown>;
}

/** The kinds a policy body asks for, each checked against the closed set; sorted, once each. */
function requestedKinds(body: unknown): CriticalKind[] {
  const { critical } = objectBody(body, ['critical']);
  if (!Array.isArray(critical))
    throw new ProblemError(
      problems.badRequest('critical must be a list of change kinds', 'critical'),
    );
  const kinds = critical.map((k: unknown, i) => {
    if (typeof k !== 'string' || !isCriticalKind(k))
      throw new ProblemError(
        problems.badRequest(
          `critical[${i}] is not a change kind; the kinds are ${Object.keys(CRITICAL_KINDS).join(', ')}`,
          `critical[${i}]`,
          'unknown_change_kind',
        ),
      );
    return k;
  });
  return [...new Set(kinds)].sort();
}

const policyBody = (p: ApprovalPolicy) => ({
  approval_policy: {
    critical: p.critical,
    ...(p.updated_at ? { updated_at: p.updated_at } : {}),
    ...(p.updated_by ? { updated_by: p.updated_by } : {}),
  },
  kinds: Object.entries(CRITICAL_KINDS).map(([kind, k]) => ({
    kind,
    about: k.about,
    routes: k.routes,
  })),
});

/**
 * The routes of the approval workflow: the org's approval policy (`/api/v1/approval-policy`:
 * reading for every admin role, setting owner-only) and its approvals (`/api/v1/approvals`:
 * list, read, approve, reject — deciding is `admin:approvals.write`, owner and admin).
 */
export function createApprovalRoutes(
  workflow: ApprovalWorkflow,
  deps: Pick<ApprovalWorkflowDeps, 'store' | 'publish' | 'logger'>,
): AdminRoute[] {
  const { store } = deps;
  const approvalBody = (r: Parameters<ApprovalWorkflow['view']>[0]) => ({
    approval: workflow.view(r),
  });
  return [
    {
      method: 'GET',
      path: '/approval-policy',
      action: 'admin:approval_policy.read',
      async handle({ admin }) {
        return { status: 200, body: policyBody(await store.policyOf(admin.orgId)) };
      },
    },
    {
      method: 'PUT',
      path: '/approval-policy',
      action: 'admin:approval_policy.write',
      check({ body }) {
        requestedKinds(body);
      },
      async handle({ admin, body, approvedBy }) {
        const critical = requestedKinds(body);
        const before = await store.policyOf(admin.orgId);
        const after: ApprovalPolicy = {
          critical,
          updated_at: new Date().toISOString(),
          updated_by: { subject_id: admin.subjectId, email: admin.email },
        };
        await store.setPolicy(admin.orgId, after);
        await deps
          .publish(
            adminChangeEvent(admin.orgId, admin, {
              entityType: 'approval_policy',
              entityId: admin.orgId,
              operation: 'update',
              before: { critical: before.critical },
              after: { critical },
              approvedBy,
            }),
          )
          .catch((err: unknown) => {
            deps.logger.error(
              { err, orgId: admin.orgId },
              'approval policy event not acknowledged',
            );
          });
        return { status: 200, body: policyBody(after) };
      },
    },
    {
      method: 'GET',
      path: '/approvals',
      action: 'admin:approvals.read',
      async handle({ admin, query }) {
        const status = query.get('status');
        if (status !== null && !STATUSES.has(status))
          throw new ProblemError(
            problems.badRequest(`status must be one of ${[...STATUSES].join(', ')}`, 'status'),
          );
        const all = await workflow.list(admin.orgId);
        const shown = status ? all.filter((r) => workflow.statusOf(r) === status) : all;
        return { status: 200, body: { approvals: shown.map((r) => workflow.view(r)) } };
      },
    },
    {
      method: 'GET',
      path: '/approvals/{id}',
      action: 'admin:approvals.read',
      async handle({ admin, params }) {
        return {
          status: 200,
          body: approvalBody(await workflow.get(admin.orgId, params[0] as string)),
        };
      },
    },
    {
      method: 'POST',
      path: '/approvals/{id}/approve',
      action: 'admin:approvals.write',
      async handle({ admin, facts, params, body }) {
        objectBody(body, []);
        return {
          status: 200,
          body: approvalBody(await workflow.approve(admin, facts, params[0] as string)),
        };
      },
    },
    {
      method: 'POST',
      path: '/approvals/{id}/reject',
      action: 'admin:approvals.write',
      async handle({ admin, params, body }) {
        const { reason } = objectBody(body, ['reason']);
        if (typeof reason !== 'string' || !reason.trim() || reason.length > MAX_REASON)
          throw new ProblemError(
            problems.badRequest(`reason must be 1–${MAX_REASON} characters`, 'reason'),
          );
        return {
          status: 200,
          body: approvalBody(await workflow.reject(admin, params[0] as string, reason.trim())),
        };
      },
    },
  ];
}

/**
 * The approval workflow for the admin API: given the API's runner, its routes and the gate
 * that parks critical changes.
 */
export function createApprovalGate(
  deps: Omit<ApprovalWorkflowDeps, 'runner'>,
): (runner: AdminRunner) => ApprovalGate {
  return (runner) => {
    const workflow = createApprovalWorkflow({ ...deps, runner });
    return {
      routes: createApprovalRoutes(workflow, deps),
      intercept: (route, call, path) => workflow.intercept(route, call, path),
    };
  };
}
