/**
 * CLI: runs the fake Anthropic API until SIGTERM/SIGINT.
 *
 *   FORTRESS_SANDBOX_PORT       port to bind on 127.0.0.1 (default 0: any free port)
 *   FORTRESS_SANDBOX_API_KEYS   comma-separated keys to accept (required)
 *   FORTRESS_SANDBOX_LATENCY_MS optional delay before every response
 *
 * Prints exactly one JSON line to stdout once listening:
 *   {"msg":"sandbox anthropic ready","url":"http://127.0.0.1:PORT","port":PORT}
 * Diagnostics go to stderr as JSON lines; keys and bodies are never written.
 */
import { startFakeAnthropic, type SandboxLogger } from './server.js';

/** Configuration read from the environment. */
interface CliConfig {
  readonly port: number;
  readonly apiKeys: readonly string[];
  readonly latencyMs: number;
}

/** Parses the environment once, failing with a message that names the variable. */
function parseConfig(env: NodeJS.ProcessEnv): CliConfig {
  const port = parseInteger(env['FORTRESS_SANDBOX_PORT'], 'FORTRESS_SANDBOX_PORT', 0, 65_535);
  const latencyMs = parseInteger(
    env['FORTRESS_SANDBOX_LATENCY_MS'],
    'FORTRESS_SANDBOX_LATENCY_MS',
    0,
    600_000,
  );
  const apiKeys = (env['FORTRESS_SANDBOX_API_KEYS'] ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  if (apiKeys.length === 0) {
    throw new Error('FORTRESS_SANDBOX_API_KEYS is empty: set at least one comma-separated key');
  }
  return { port, apiKeys, latencyMs };
}

function parseInteger(raw: string | undefined, name: string, min: number, max: number): number {
  if (raw === undefined || raw.trim() === '') return 0;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function writeLine(stream: NodeJS.WriteStream, fields: object): void {
  stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

const stderrLogger: SandboxLogger = {
  info: (fields, msg) => writeLine(process.stderr, { level: 'info', msg, ...fields }),
  error: (fields, msg) => writeLine(process.stderr, { level: 'error', msg, ...fields }),
};

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  const fake = await startFakeAnthropic({
    port: config.port,
    apiKeys: config.apiKeys,
    latencyMs: config.latencyMs,
    logger: stderrLogger,
  });
  process.stdout.write(
    `${JSON.stringify({ msg: 'sandbox anthropic ready', url: fake.url, port: fake.port })}\n`,
  );
  const stop = (): void => {
    fake.close().then(
      () => process.exit(0),
      (err: unknown) => {
        stderrLogger.error({ err: String(err) }, 'sandbox anthropic close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  stderrLogger.error(
    { err: err instanceof Error ? err.message : String(err) },
    'sandbox anthropic failed to start',
  );
  process.exit(1);
});
