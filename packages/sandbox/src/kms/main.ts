/**
 * Starts the local KMS endpoint from the environment and prints one JSON line when listening:
 *   FORTRESS_KMS_PORT (default 0), FORTRESS_KMS_HOST (default 127.0.0.1),
 *   FORTRESS_KMS_REGION (default us-east-1), FORTRESS_KMS_ACCOUNT_ID, FORTRESS_KMS_STATE_FILE.
 */
import type { KmsServerOptions } from './server.js';
import { startKmsServer } from './server.js';

function fail(message: string): never {
  process.stderr.write(`${JSON.stringify({ msg: 'kms failed to start', error: message })}\n`);
  process.exit(1);
}

/** Reads the endpoint options from `FORTRESS_KMS_*` variables, failing fast on bad values. */
function optionsFromEnv(env: NodeJS.ProcessEnv): KmsServerOptions {
  const portText = env['FORTRESS_KMS_PORT'] ?? '0';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new Error(`FORTRESS_KMS_PORT "${portText}" is not a port number`);
  }
  const optional = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const host = optional('FORTRESS_KMS_HOST');
  const region = optional('FORTRESS_KMS_REGION');
  const accountId = optional('FORTRESS_KMS_ACCOUNT_ID');
  const stateFile = optional('FORTRESS_KMS_STATE_FILE');
  return {
    port,
    ...(host === undefined ? {} : { host }),
    ...(region === undefined ? {} : { region }),
    ...(accountId === undefined ? {} : { accountId }),
    ...(stateFile === undefined ? {} : { stateFile }),
  };
}

async function main(): Promise<void> {
  const server = await startKmsServer(optionsFromEnv(process.env));
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error: unknown) => fail(error instanceof Error ? error.message : String(error)),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(
    `${JSON.stringify({ msg: 'kms ready', url: server.url, port: server.port })}\n`,
  );
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
