/** A PostgreSQL error as node-postgres reports it. */
interface PgError {
  code?: unknown;
  constraint?: unknown;
}

/**
 * Why the database refused a row for what it contains, or undefined when the failure may
 * pass (connection lost, server restarting, timeout, lock conflict) and the message should be
 * redelivered. Data exceptions (class 22: NUL bytes, bad Unicode, out-of-range values) and
 * integrity violations (class 23) are poison — except a clash on the chain position, which
 * means the chain head is out of step with the rows (someone edited it): retrying, loudly,
 * is right there; rejecting would quietly move every event of that org out of the log.
 */
export function poisonReason(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, constraint } = err as PgError;
  if (typeof code !== 'string' || !/^2[23]/.test(code)) return undefined;
  if (constraint === 'events_org_seq_unique' || constraint === 'chain_heads_pkey') return undefined;
  if (code === '23505' && constraint === 'events_event_id_key')
    return 'event_id is already recorded for another org';
  return `the database refused the row (sqlstate ${code})`;
}
