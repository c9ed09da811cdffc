import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  AlertSchema,
  AlertSettingsSchema,
  AlertState,
  type Alert,
  type AlertSettings as AlertSettingsMessage,
} from '@fortress/proto/audit/v1/alert_pb';
import type { AlertState as StateName, LoggedAlertEmail } from '../adapters/pg/alert-email-repo.js';
import { anomalyParams, type AlertSettings } from '../domain/alert-settings.js';

const STATES: Record<StateName, AlertState> = {
  pending: AlertState.PENDING,
  sent: AlertState.SENT,
  failed: AlertState.FAILED,
};

/** The API view of an org's settings, defaults filled in. */
export function toAlertSettings(s: AlertSettings): AlertSettingsMessage {
  const p = anomalyParams(s.anomaly);
  return create(AlertSettingsSchema, {
    orgId: s.orgId,
    emailRecipients: s.recipients,
    emailTypes: s.types,
    anomaly: {
      disabled: p.disabled,
      stddevMultiplier: p.k,
      minRequests: p.minRequests,
      minDenies: p.minDenies,
    },
    ...(s.updatedAt ? { updatedAt: timestampFromDate(s.updatedAt) } : {}),
  });
}

/** The API view of one alert email (never its body: the log says what was sent, not again). */
export function toAlert(e: LoggedAlertEmail): Alert {
  return create(AlertSchema, {
    alertId: e.alertId,
    eventId: e.eventId,
    type: e.type,
    recipients: e.recipients,
    subject: e.subject,
    state: STATES[e.state],
    attempts: e.attempts,
    lastError: e.lastError ?? '',
    createdAt: timestampFromDate(e.createdAt),
    ...(e.sentAt ? { sentAt: timestampFromDate(e.sentAt) } : {}),
  });
}
