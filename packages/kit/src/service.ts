import type { z } from 'zod';
import { loadConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { startTelemetry, type Telemetry } from './telemetry.js';
import { loadTls, type TlsMaterial } from './tls.js';

/** What every service process starts with. */
export interface ServiceBase<C> {
  name: string;
  config: C;
  logger: Logger;
  telemetry: Telemetry;
  tls: TlsMaterial;
}

/** Config every service has (see `serviceEnv`). */
interface BaseConfig {
  FORTRESS_TLS_DIR: string;
  FORTRESS_LOG_LEVEL: string;
  FORTRESS_OTLP_TRACES_URL?: string | undefined;
}

/**
 * Parses a service's configuration, then creates its logger, telemetry and TLS material.
 * A configuration error is printed as one JSON log line and the process exits non-zero.
 */
export function bootService<S extends z.ZodType<BaseConfig>>(
  name: string,
  schema: S,
): ServiceBase<z.infer<S>> {
  let config: z.infer<S>;
  try {
    config = loadConfig(schema);
  } catch (err) {
    createLogger({ service: name }).fatal({ err }, 'cannot start');
    process.exit(2);
  }
  const logger = createLogger({ service: name, level: config.FORTRESS_LOG_LEVEL });
  const telemetry = startTelemetry({
    service: name,
    otlpTracesUrl: config.FORTRESS_OTLP_TRACES_URL,
  });
  return { name, config, logger, telemetry, tls: loadTls(config.FORTRESS_TLS_DIR, name) };
}
