import type { Client } from '@connectrpc/connect';
import type { PolicyService } from '@fortress/proto/policy/v1/policy_pb';
import type { Logger } from '@fortress/kit/log';

/** What the settler needs. */
export interface SpendSettlerDeps {
  policy: Client<typeof PolicyService>;
  logger: Logger;
  timeoutMs: number;
  /** Tries before giving up (settling is idempotent, so a retry never counts twice). */
  attempts?: number;
}

/**
 * Settles a request's quota reservation with what it actually consumed, off the request path,
 * so the counters are right at once. Retries with backoff; if the policy stays unreachable, the
 * outcome event (durable in JetStream, carrying the reservation and the amounts) settles it
 * when the policy's consumer reads it — settling twice counts once.
 */
export function createSpendSettler(deps: SpendSettlerDeps) {
  const attempts = deps.attempts ?? 4;
  return async function settle(
    orgId: string,
    reservationId: string,
    actual: { spendMicrousd: number; tokens: number },
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.policy.settle(
          {
            orgId,
            reservationId,
            spendMicrousd: BigInt(actual.spendMicrousd),
            tokens: BigInt(actual.tokens),
          },
          { timeoutMs: deps.timeoutMs },
        );
        return true;
      } catch (err) {
        if (attempt >= attempts) {
          deps.logger.error(
            { err, orgId, reservationId, spendMicrousd: actual.spendMicrousd },
            'reservation not settled directly; the policy settles it from the outcome event',
          );
          return false;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 4 ** (attempt - 1)));
      }
    }
  };
}

/** Settles a reservation. */
export type SpendSettler = ReturnType<typeof createSpendSettler>;
