import { z } from 'zod';
import { serviceEnv } from '@fortress/kit/config';

/** Identity's configuration, from the environment. */
export const identityConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
});
