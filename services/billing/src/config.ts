import { z } from 'zod';
import { serviceEnv } from '@fortress/kit/config';

/** Billing's configuration, from the environment. */
export const billingConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
  /** JetStream: member change events from identity feed the seat ledger. */
  FORTRESS_NATS_URL: z.string().min(1),
});
