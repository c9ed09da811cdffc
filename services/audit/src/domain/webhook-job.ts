/** One event's delivery to one subscription, as a queue job carries it (ids only). */
export interface DeliveryJob {
  orgId: string;
  eventId: string;
  subscriptionId: string;
  /** Manual replays so far: each replay is a job of its own. */
  replays: number;
}

/**
 * The BullMQ job id of a delivery: the same for the same (event, subscription), so enqueuing
 * it again (a redelivered event, the sweeper) adds nothing while the job exists; a replay gets
 * its own. BullMQ refuses ":" in custom ids, hence the dots.
 */
export function jobIdOf(job: DeliveryJob): string {
  const base = `${job.eventId}.${job.subscriptionId}`;
  return job.replays === 0 ? base : `${base}.r${job.replays}`;
}
