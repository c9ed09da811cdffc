import assert from 'node:assert/strict';
import { FailedPreconditionError } from '@fortress/kit/errors';
import { checkSeatChange, type NewSeatEvent } from '../../src/domain/seat-ledger.js';
import { ledger } from '../support/ledger.js';

const change = (c: NewSeatEvent['change'], at: string): NewSeatEvent => ({
  userId: 'u_1',
  product: 'mcp',
  change: c,
  at: new Date(at),
});
const reason = (want: string) => (err: unknown) =>
  err instanceof FailedPreconditionError && err.reason === want;

describe('checkSeatChange', () => {
  const history = ledger()
    .grant('2026-01-15T09:00:00Z', ['mcp'], ['u_1'])
    .revoke('2026-01-20T09:00:00Z', ['mcp'], ['u_1']).events;

  it('accepts alternating grants and revocations', () => {
    checkSeatChange([], change('granted', '2026-01-15T09:00:00Z'));
    checkSeatChange(history, change('granted', '2026-01-25T09:00:00Z'));
  });

  it('refuses to revoke a seat never granted', () => {
    assert.throws(
      () => checkSeatChange([], change('revoked', '2026-01-15T09:00:00Z')),
      reason('seat_not_granted'),
    );
  });

  it('refuses to revoke a seat already revoked, or to grant one held', () => {
    assert.throws(
      () => checkSeatChange(history, change('revoked', '2026-01-25T09:00:00Z')),
      reason('seat_not_granted'),
    );
    assert.throws(
      () => checkSeatChange(history, change('granted', '2026-01-16T09:00:00Z')),
      reason('seat_already_granted'),
    );
  });

  it('refuses a back-dated change that later changes would contradict', () => {
    const granted = ledger().grant('2026-01-20T09:00:00Z', ['mcp'], ['u_1']).events;
    assert.throws(
      () => checkSeatChange(granted, change('granted', '2026-01-10T09:00:00Z')),
      reason('seat_history_conflict'),
    );
  });
});
