import { toJson } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import {
  AlertSettingsSchema,
  ListAlertsResponseSchema,
  SetAlertSettingsRequestSchema,
  type AlertService,
} from '@fortress/proto/audit/v1/alert_pb';
import type { AdminRoute } from './admin-api.js';
import { parseBody, queryPage } from './parse-body.js';
import { problems, ProblemError } from './problem.js';

/** What the alert routes need. */
export interface AlertRoutesDeps {
  alerts: Client<typeof AlertService>;
  hopTimeoutMs: number;
}

const JSON_OUT = { useProtoFieldName: true } as const;

/**
 * The org's alerts in the admin API: who gets alert emails and for which types, the anomaly
 * detection's settings (`/api/v1/alerts/settings`, part of the org's settings), and the log of
 * alert emails (`/api/v1/alerts`). The audit service validates and change-logs every edit.
 */
export function createAlertRoutes(deps: AlertRoutesDeps): AdminRoute[] {
  const opts = { timeoutMs: deps.hopTimeoutMs };
  return [
    {
      method: 'GET',
      path: '/alerts/settings',
      action: 'admin:settings.read',
      async handle({ admin }) {
        const r = await deps.alerts.getAlertSettings({ orgId: admin.orgId }, opts);
        return {
          status: 200,
          body: { settings: r.settings ? toJson(AlertSettingsSchema, r.settings, JSON_OUT) : {} },
        };
      },
    },
    {
      method: 'PUT',
      path: '/alerts/settings',
      action: 'admin:settings.write',
      async handle({ admin, body }) {
        const req = parseBody(SetAlertSettingsRequestSchema, body);
        if (req.orgId || req.actorId)
          throw new ProblemError(
            problems.badRequest('org_id and actor_id come from the session', 'org_id'),
          );
        const r = await deps.alerts.setAlertSettings(
          { ...req, orgId: admin.orgId, actorId: admin.subjectId },
          opts,
        );
        return {
          status: 200,
          body: { settings: r.settings ? toJson(AlertSettingsSchema, r.settings, JSON_OUT) : {} },
        };
      },
    },
    {
      method: 'GET',
      path: '/alerts',
      action: 'admin:settings.read',
      async handle({ admin, query }) {
        const r = await deps.alerts.listAlerts(
          { orgId: admin.orgId, type: query.get('type') ?? '', page: queryPage(query) },
          opts,
        );
        return { status: 200, body: toJson(ListAlertsResponseSchema, r, JSON_OUT) };
      },
    },
  ];
}
