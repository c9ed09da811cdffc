import type { JsonValue } from '@bufbuild/protobuf';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import type { CriticalKind, ParkedKind } from './approval-kinds.js';

/** Where an approval is in its life; "expired" is never stored (see `expires_at`). */
export type StoredStatus = 'pending' | 'executing' | 'approved' | 'rejected' | 'failed';

/** An admin as an approval names them. */
export interface Person {
  subject_id: string;
  email: string;
}

/** A change that waits for a second admin, as stored (no secret is ever in one). */
export interface ApprovalRecord {
  id: string;
  org_id: string;
  kind: ParkedKind;
  status: StoredStatus;
  requested_by: Person;
  /** The requester as authenticated (kind, roles, tier — no token): the change runs as them. */
  requester: JsonValue;
  /** The admin route, e.g. "DELETE /pat-keys/{id}". */
  route: string;
  method: string;
  /** The path as requested, e.g. "/api/v1/pat-keys/pat_1". */
  path: string;
  params: string[];
  query: string;
  body: JsonValue | null;
  created_at: string;
  expires_at: string;
  decided_by?: Person;
  decided_at?: string;
  /** Why it was rejected. */
  reason?: string;
  /** The executed change's answer. */
  result?: { status: number; body?: JsonValue };
  /** Why the executed change failed. */
  problem?: { status: number; code: string; title: string; detail: string };
}

/** An org's approval policy: which of its changes wait for a second admin. */
export interface ApprovalPolicy {
  critical: CriticalKind[];
  updated_at?: string;
  updated_by?: Person;
}

/** How long a decided (or expired) approval stays listed; the audit log keeps it for good. */
export const APPROVAL_RETENTION_MS = 30 * 24 * 3600_000;

/**
 * Pending approvals and approval policies, shared by every edge replica through two JetStream
 * key-value buckets (the edge has no tables). An approval is one key `<org>.<id>`; every change
 * of its state is a compare-and-set on the key's revision, so of two replicas deciding the same
 * approval at once exactly one wins. A policy is one key per org, with a short history.
 */
export async function openApprovalStore(nc: NatsConnection, retentionMs = APPROVAL_RETENTION_MS) {
  const kvm = new Kvm(nc);
  const approvals: KV = await kvm.create('fortress_admin_approvals', {
    ttl: retentionMs,
    history: 1,
  });
  const policies: KV = await kvm.create('fortress_approval_policies', { history: 10 });
  const keyOf = (orgId: string, id: string) => `${orgId}.${id}`;

  const read = async (orgId: string, id: string) => {
    const e = await approvals.get(keyOf(orgId, id));
    if (!e || e.operation !== 'PUT') return undefined;
    return { record: e.json<ApprovalRecord>(), revision: e.revision };
  };

  return {
    /** The org's policy; an org that never set one marks nothing critical. */
    async policyOf(orgId: string): Promise<ApprovalPolicy> {
      const e = await policies.get(orgId);
      return e?.operation === 'PUT' ? e.json<ApprovalPolicy>() : { critical: [] };
    },
    async setPolicy(orgId: string, policy: ApprovalPolicy): Promise<void> {
      await policies.put(orgId, JSON.stringify(policy));
    },
    /** Stores a new approval (its id is fresh: a clash is an error). */
    async create(record: ApprovalRecord): Promise<void> {
      await approvals.create(keyOf(record.org_id, record.id), JSON.stringify(record));
    },
    /** One approval of an org with its revision, or undefined. */
    read,
    /**
     * Replaces an approval if it is still at `revision`: the new revision, or undefined when
     * another writer got there first.
     */
    async replace(record: ApprovalRecord, revision: number): Promise<number | undefined> {
      try {
        return await approvals.update(
          keyOf(record.org_id, record.id),
          JSON.stringify(record),
          revision,
        );
      } catch (err) {
        const now = await read(record.org_id, record.id);
        if (now && now.revision !== revision) return undefined;
        throw err;
      }
    },
    /** Every approval of an org still kept, newest first. */
    async list(orgId: string): Promise<ApprovalRecord[]> {
      const out: ApprovalRecord[] = [];
      for await (const key of await approvals.keys(`${orgId}.*`)) {
        const got = await read(orgId, key.slice(orgId.length + 1));
        if (got) out.push(got.record);
      }
      return out.sort((a, b) => b.created_at.localeCompare(a.created_at) || (a.id < b.id ? 1 : -1));
    },
  };
}

/** The approval store. */
export type ApprovalStore = Awaited<ReturnType<typeof openApprovalStore>>;
