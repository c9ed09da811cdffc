import { z } from 'zod';

/**
 * Parses configuration from environment variables once, typed, failing fast with a message
 * that names every bad variable. Values of variables are never echoed (they may be secrets).
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new Error(`invalid configuration:\n${problems.join('\n')}`);
}

/** A TCP port from the environment; 0 means "pick a free one". */
export const port = (fallback: number) =>
  z.coerce.number().int().min(0).max(65535).default(fallback);

/** A positive duration in milliseconds from the environment. */
export const millis = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Variables every service reads. */
export const serviceEnv = {
  FORTRESS_HOST: z.string().default('127.0.0.1'),
  FORTRESS_GRPC_PORT: port(0),
  FORTRESS_OPS_PORT: port(0),
  FORTRESS_TLS_DIR: z.string().min(1),
  FORTRESS_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  FORTRESS_OTLP_TRACES_URL: z.url().optional(),
};
