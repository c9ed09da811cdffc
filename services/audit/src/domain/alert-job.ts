/** One alert email as a queue job carries it (ids only: never the recipients or the text). */
export interface AlertJob {
  orgId: string;
  alertId: string;
}

/** The BullMQ job id of an alert email: the same however often it is enqueued. */
export function alertJobId(job: AlertJob): string {
  return `${job.orgId}.${job.alertId}`;
}
