import type { Logger } from '@fortress/kit/log';
import type { Secret } from '@fortress/kit/secret';
import type { Lookup } from '../adapters/dns/resolve-target.js';
import { resolveTarget } from '../adapters/dns/resolve-target.js';
import { postWebhook, type PostResult } from '../adapters/http/post-webhook.js';
import type { SecretBox } from '../adapters/keys/secret-box.js';
import type { DeliveryRepo } from '../adapters/pg/delivery-repo.js';
import type { DeliveryJob } from '../domain/webhook-job.js';
import { signDelivery } from '../domain/webhook-signature.js';
import { parseWebhookUrl, type WebhookMode } from '../domain/webhook-url.js';

/** What one attempt uses. */
export interface AttemptDeps {
  deliveries: Pick<DeliveryRepo, 'target' | 'recordAttempt'>;
  box: SecretBox;
  mode: WebhookMode;
  lookup?: Lookup;
  /** Per attempt, for the whole exchange. */
  timeoutMs: number;
  logger: Logger;
  now?: () => Date;
  /** Told the outcome of every attempt made (metrics). */
  onAttempt?: (outcome: 'delivered' | 'retry' | 'failed') => void;
}

/** How an attempt ended: sent, to be retried, given up on, or nothing to do. */
export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'skipped';

/** Where the request would go, or the error class that stops it before a connection. */
async function targetOf(deps: AttemptDeps, url: string) {
  let parsed;
  try {
    // The rules of today's mode, not of the day it was created.
    parsed = parseWebhookUrl('url', url, deps.mode);
  } catch {
    return { error: 'url_refused' } as const;
  }
  const check = await resolveTarget(parsed, deps.mode, deps.lookup);
  return check.ok ? { url: parsed.url, address: check.address } : { error: check.error };
}

/**
 * One delivery attempt: reads the delivery (nothing to do unless it is pending), checks the
 * target again — scheme, then the addresses its host resolves to now, so a host that turned
 * private since creation is refused — signs with the current (and, during a rotation, the
 * previous) secret, POSTs to the checked address, and logs the attempt with the delivery's new
 * state. `last` says whether a failure now is final (dead-lettered). Neither the secret nor
 * the signature is ever logged.
 */
export function createAttempt(deps: AttemptDeps) {
  const now = deps.now ?? (() => new Date());
  return async (job: DeliveryJob, last: boolean): Promise<AttemptOutcome> => {
    const t = await deps.deliveries.target(job);
    if (!t || t.state !== 'pending') return 'skipped';
    const attemptedAt = now();
    let result: PostResult | { error: string; latencyMs: number };
    if (!t.enabled) {
      result = { error: 'subscription_disabled', latencyMs: 0 };
    } else {
      const target = await targetOf(deps, t.url);
      if ('error' in target) {
        result = { error: target.error, latencyMs: 0 };
      } else {
        const keys: Secret[] = t.secrets.map((s) =>
          deps.box.open(s, {
            orgId: job.orgId,
            subscriptionId: job.subscriptionId,
            version: s.version,
          }),
        );
        let signed;
        try {
          signed = signDelivery(
            keys,
            job.eventId,
            Math.floor(attemptedAt.getTime() / 1000),
            t.body,
          );
        } finally {
          for (const k of keys) k.destroy();
        }
        result = await postWebhook({
          url: target.url,
          address: target.address,
          headers: {
            ...signed,
            'content-type': 'application/json',
            'user-agent': 'Fortress-Webhooks/1',
          },
          body: t.body,
          timeoutMs: deps.timeoutMs,
        });
      }
    }
    const status = 'status' in result ? result.status : null;
    const ok = status !== null && status >= 200 && status < 300;
    const final = ok || last || !t.enabled;
    const state = ok ? 'delivered' : final ? 'failed' : 'pending';
    const attempt = await deps.deliveries.recordAttempt(job, {
      attemptedAt,
      statusCode: status,
      error: 'error' in result ? result.error : null,
      latencyMs: result.latencyMs,
      state,
    });
    if (!ok)
      deps.logger.warn(
        {
          orgId: job.orgId,
          webhookId: job.subscriptionId,
          eventId: job.eventId,
          attempt,
          status,
          error: 'error' in result ? result.error : undefined,
          final,
        },
        final ? 'webhook delivery failed; dead-lettered' : 'webhook delivery failed; will retry',
      );
    const outcome = ok ? 'delivered' : final ? 'failed' : 'retry';
    deps.onAttempt?.(outcome);
    return outcome;
  };
}
