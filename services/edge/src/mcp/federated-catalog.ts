import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import type { FederatedTool } from '../connectors/upstream-mcp.js';

/** An upstream MCP server's tools as last listed. */
export interface FederatedListing {
  /** The endpoint they were listed from (a changed URL makes the listing stale). */
  url: string;
  listedAt: number;
  tools: FederatedTool[];
}

/** How long a replica trusts its in-memory copy before reading the bucket again. */
const MEMORY_MS = 30_000;

/**
 * The tool lists of federated upstream MCP servers, shared by every edge replica through a
 * JetStream key-value bucket. Listing needs the connector's credential, which only a decision
 * releases (a Test Connection, or a call): `tools/list` then serves what was last listed, so
 * showing tools never needs a secret. Keyed by org and connector.
 */
export async function openFederatedCatalog(nc: NatsConnection) {
  const kv: KV = await new Kvm(nc).create('fortress_mcp_federated', { history: 1 });
  const memory = new Map<string, { at: number; listing: FederatedListing | undefined }>();
  const keyOf = (orgId: string, connectorId: string) => `${orgId}.${connectorId}`;

  return {
    /** The last listing of an org's connector, if any. */
    async get(orgId: string, connectorId: string): Promise<FederatedListing | undefined> {
      const key = keyOf(orgId, connectorId);
      const known = memory.get(key);
      if (known && Date.now() - known.at < MEMORY_MS) return known.listing;
      const entry = await kv.get(key);
      const listing =
        entry && entry.operation === 'PUT' ? entry.json<FederatedListing>() : undefined;
      memory.set(key, { at: Date.now(), listing });
      return listing;
    },

    /** Saves a fresh listing. */
    async put(orgId: string, connectorId: string, listing: FederatedListing): Promise<void> {
      const key = keyOf(orgId, connectorId);
      await kv.put(key, JSON.stringify(listing));
      memory.set(key, { at: Date.now(), listing });
    },
  };
}

/** The federated tool catalog. */
export type FederatedCatalog = Awaited<ReturnType<typeof openFederatedCatalog>>;
