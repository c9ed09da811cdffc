import { z } from 'zod';
import { serviceEnv } from '@fortress/kit/config';

/** Billing's configuration, from the environment. */
export const billingConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
});
