import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  ExportSettingsSchema,
  type ExportSettings,
  type SetExportSettingsRequest,
} from '@fortress/proto/audit/v1/audit_pb';
import { requireId, requireText } from '@fortress/kit/validate';
import type { ExportSegmentRepo } from '../adapters/pg/export-segment-repo.js';
import type { ExportSettingView, ExportSettingsRepo } from '../adapters/pg/export-settings-repo.js';
import { changeRow } from './change-row.js';

/** What the export settings handlers use. */
export interface ExportSettingsDeps {
  settings: Pick<ExportSettingsRepo, 'get' | 'set'>;
  segments: Pick<ExportSegmentRepo, 'backlog'>;
}

/** What the change log shows of the setting. */
const shown = (s: ExportSettingView): JsonObject => ({ enabled: s.enabled, default: s.isDefault });

/** The API view: the setting and how far behind the export is. */
async function viewOf(
  deps: ExportSettingsDeps,
  orgId: string,
  s: ExportSettingView,
): Promise<ExportSettings> {
  const backlog = await deps.segments.backlog(orgId);
  return create(ExportSettingsSchema, {
    orgId,
    enabled: s.enabled,
    isDefault: s.isDefault,
    ...(s.updatedAt ? { updatedAt: timestampFromDate(s.updatedAt) } : {}),
    pendingSegments: backlog.pending,
    lastError: backlog.lastError,
  });
}

/** The org's export setting, with the export's backlog. */
export async function getExportSettings(
  deps: ExportSettingsDeps,
  orgIdIn: string,
): Promise<ExportSettings> {
  const orgId = requireId('org_id', orgIdIn, 'org');
  return viewOf(deps, orgId, await deps.settings.get(orgId));
}

/**
 * Turns the org's export on or off, recording who (and who approved it) with before and after
 * in the org's own log, in the same transaction as the change.
 */
export async function setExportSettings(
  deps: ExportSettingsDeps,
  req: SetExportSettingsRequest,
): Promise<ExportSettings> {
  const orgId = requireId('org_id', req.orgId, 'org');
  const actorId = requireText('actor_id', req.actorId, 200);
  const approvedBy = req.approvedBy ? requireText('approved_by', req.approvedBy, 200) : undefined;
  const saved = await deps.settings.set(orgId, req.enabled, (before, after) =>
    changeRow(
      orgId,
      actorId,
      { type: 'audit_export', id: orgId, operation: 'update' },
      shown(before),
      shown(after),
      approvedBy,
    ),
  );
  return viewOf(deps, orgId, saved);
}
