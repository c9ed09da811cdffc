import { create, type JsonObject } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  GetAlertSettingsResponseSchema,
  ListAlertsResponseSchema,
  SetAlertSettingsResponseSchema,
  type AlertService,
} from '@fortress/proto/audit/v1/alert_pb';
import { pageSize, requireId, requireText } from '@fortress/kit/validate';
import type { AlertEmailRepo } from '../adapters/pg/alert-email-repo.js';
import type { AlertSettingsRepo } from '../adapters/pg/alert-settings-repo.js';
import { alertSettingsOf, defaultSettings, type AlertSettings } from '../domain/alert-settings.js';
import { alertTypeFilter } from '../domain/alert-types.js';
import { changeRow } from './change-row.js';
import { toAlert, toAlertSettings } from './alert-view.js';
import { pageToken } from './request-filter.js';

/** What the AlertService handlers use. */
export interface AlertRpcDeps {
  settings: Pick<AlertSettingsRepo, 'get' | 'set'>;
  emails: Pick<AlertEmailRepo, 'list'>;
}

/** What the change log shows of alert settings. */
const shown = (s: AlertSettings | undefined): JsonObject | undefined =>
  s && {
    emailRecipients: s.recipients,
    emailTypes: s.types,
    anomaly: {
      disabled: s.anomaly.disabled,
      ...(s.anomaly.k === undefined ? {} : { stddevMultiplier: s.anomaly.k }),
      ...(s.anomaly.minRequests === undefined ? {} : { minRequests: s.anomaly.minRequests }),
      ...(s.anomaly.minDenies === undefined ? {} : { minDenies: s.anomaly.minDenies }),
    },
  };

/**
 * The AlertService handlers. Like AuditService they answer the edge and the operator (mTLS);
 * which admins may change an org's alerts is the admin plane's decision.
 */
export function createAlertRpc(deps: AlertRpcDeps): ServiceImpl<typeof AlertService> {
  return {
    async getAlertSettings(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const s = (await deps.settings.get(orgId)) ?? defaultSettings(orgId);
      return create(GetAlertSettingsResponseSchema, { settings: toAlertSettings(s) });
    },

    async setAlertSettings(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const actorId = requireText('actor_id', req.actorId, 200);
      const wanted = alertSettingsOf(orgId, {
        recipients: req.emailRecipients,
        types: req.emailTypes,
        ...(req.anomaly ? { anomaly: req.anomaly } : {}),
      });
      const saved = await deps.settings.set(wanted, (before, after) =>
        changeRow(
          orgId,
          actorId,
          { type: 'alert_settings', id: orgId, operation: before ? 'update' : 'create' },
          shown(before),
          shown(after),
        ),
      );
      return create(SetAlertSettingsResponseSchema, { settings: toAlertSettings(saved) });
    },

    async listAlerts(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const limit = pageSize(req.page?.pageSize ?? 0, 50, 500);
      const before = pageToken(req.page?.pageToken ?? '');
      const [type] = req.type ? alertTypeFilter('type', [req.type]) : [];
      const rows = await deps.emails.list(orgId, {
        ...(type ? { type } : {}),
        ...(before ? { beforeId: before } : {}),
        limit: limit + 1,
      });
      const shownRows = rows.slice(0, limit);
      const last = shownRows.at(-1);
      return create(ListAlertsResponseSchema, {
        alerts: shownRows.map(toAlert),
        page: { nextPageToken: rows.length > limit && last ? last.id : '' },
      });
    },
  };
}
