import { z } from 'zod';
import { serviceEnv } from '@fortress/kit/config';

/** Posture's configuration, from the environment. */
export const postureConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
});
