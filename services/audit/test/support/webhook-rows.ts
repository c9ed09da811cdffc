import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createDeliveryRepo } from '../../src/adapters/pg/delivery-repo.js';
import { createWebhookRepo } from '../../src/adapters/pg/webhook-repo.js';
import type { AuditRow } from '../../src/domain/audit-row.js';

/** One subscription, message, delivery and attempt of `orgId`, written as the service writes them. */
export async function seedWebhookRows(
  pool: pg.Pool,
  orgId: string,
  change: () => AuditRow,
): Promise<void> {
  const id = `wh_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  await createWebhookRepo(pool).create(
    orgId,
    id,
    { url: 'https://hooks.example.com/x', eventTypes: [], description: '', enabled: true },
    { keyId: 'k1', ciphertext: Buffer.from('sealed'), version: 1 },
    change,
  );
  const deliveries = createDeliveryRepo(pool);
  const eventId = randomUUID();
  const [job] = await deliveries.accept(
    orgId,
    { eventId, type: 'user.overage', occurredAt: new Date(), body: '{}' },
    () => true,
  );
  if (!job) throw new Error('no delivery seeded');
  await deliveries.recordAttempt(job, {
    attemptedAt: new Date(),
    statusCode: 204,
    error: null,
    latencyMs: 3,
    state: 'delivered',
  });
}
