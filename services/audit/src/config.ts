import { z } from 'zod';
import { serviceEnv } from '@fortress/kit/config';

/** Audit's configuration, from the environment. */
export const auditConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
  FORTRESS_NATS_URL: z.string().min(1),
});
