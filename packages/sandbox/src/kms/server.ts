import { randomInt, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_PREFIX, handleAdmin } from './admin.js';
import type { KmsFaults } from './faults.js';
import { createFaultController } from './faults.js';
import { KeyStore } from './key-store.js';
import type { KmsLogger } from './logger.js';
import { OPERATION_NAMES } from './operations.js';
import { createKmsHandler } from './request-handler.js';
import type { StateWriter } from './state-file.js';
import { createStateWriter, loadState } from './state-file.js';

/** Options of `startKmsServer`; every field has a local-friendly default. */
export interface KmsServerOptions {
  /** Interface to bind; default `127.0.0.1`. The control routes have no auth: keep it local. */
  readonly host?: string;
  /** Port; default 0 (any free port). */
  readonly port?: number;
  /** Region in ARNs and the one SigV4 credentials must be scoped to; default `us-east-1`. */
  readonly region?: string;
  /** 12-digit account id; default the state file's, else random. Two servers = two accounts. */
  readonly accountId?: string;
  /** JSON file (mode 0600) holding key material and grants across restarts; default memory. */
  readonly stateFile?: string;
  /** Access key id of the account owner; default: every access key is the owner. */
  readonly ownerAccessKeyId?: string;
  /** Access key id → principal ARN for grant matching; default: the access key id itself. */
  readonly principals?: Readonly<Record<string, string>>;
  /** Where request lines go; default: nothing is logged. */
  readonly logger?: KmsLogger;
}

/** A running local KMS endpoint. */
export interface KmsServer {
  /** Base URL to pass as the KMS client's `endpoint`. */
  readonly url: string;
  readonly port: number;
  readonly accountId: string;
  readonly region: string;
  /** Fault switches (also reachable over HTTP at `/__fault`). */
  readonly faults: KmsFaults;
  /** Requests received per operation since start or the last `resetCalls`. */
  calls(): Record<string, number>;
  /** Zeroes the call counters. */
  resetCalls(): void;
  /** Stops listening, drops open connections and waits for pending state writes. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

async function openStore(
  options: KmsServerOptions,
  region: string,
): Promise<{ store: KeyStore; writer: StateWriter | undefined }> {
  const { accountId, stateFile } = options;
  if (accountId !== undefined && !/^\d{12}$/.test(accountId)) {
    throw new Error(`kms accountId "${accountId}" is not 12 digits`);
  }
  const state = stateFile === undefined ? undefined : await loadState(stateFile);
  if (state !== undefined && accountId !== undefined && state.accountId !== accountId) {
    throw new Error(
      `kms state file "${stateFile ?? ''}" belongs to account ${state.accountId}, not ${accountId}`,
    );
  }
  const store =
    state === undefined
      ? new KeyStore(accountId ?? String(randomInt(100_000_000_000, 1_000_000_000_000)), region)
      : KeyStore.restore(state, region);
  const writer = stateFile === undefined ? undefined : createStateWriter(stateFile);
  // Write at once so the account id survives a restart even before the first key exists.
  if (writer !== undefined && state === undefined) await writer.write(store.snapshot());
  return { store, writer };
}

/** Starts a KMS-compatible endpoint (AWS JSON 1.1, `TrentService.*`) on loopback. */
export async function startKmsServer(options: KmsServerOptions = {}): Promise<KmsServer> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  if (!/^[a-z0-9-]+$/.test(region)) throw new Error(`kms region "${region}" is not valid`);
  const { store, writer } = await openStore(options, region);
  const faults = createFaultController(OPERATION_NAMES);
  const calls = new Map<string, number>();
  const shutdown = new AbortController();
  const handleKms = createKmsHandler({
    store,
    callerPolicy: {
      ownerAccessKeyId: options.ownerAccessKeyId,
      principals: options.principals ?? {},
      region,
    },
    faults,
    calls,
    commit: () => (writer === undefined ? Promise.resolve() : writer.write(store.snapshot())),
    logger: options.logger,
    shutdown: shutdown.signal,
  });

  const server = createServer((req, res) => {
    const isAdmin = (req.url ?? '/').startsWith(ADMIN_PREFIX);
    const done = isAdmin
      ? handleAdmin(req, res, randomUUID(), { faults, calls })
      : handleKms(req, res);
    // Both handlers answer every error themselves; this only guards against a bug there.
    done.catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    accountId: store.accountId,
    region,
    faults,
    calls: () => Object.fromEntries(calls),
    resetCalls: () => calls.clear(),
    close() {
      closing ??= (async () => {
        shutdown.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await writer?.flush();
      })();
      return closing;
    },
  };
}
