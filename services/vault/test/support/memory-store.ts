import type { CredentialRow, VaultStore } from '../../src/adapters/pg/vault-store.js';

type DataKeyRow = { epoch: number; kmsKeyId: string; wrapped: Buffer };

/**
 * The vault store in memory, with the same semantics as the PostgreSQL one: data keys are
 * insert-if-absent per (org, epoch) and return what is stored; credential ids are unique per org.
 * `beforeInsertDataKey` lets a test play another replica that stores a key first.
 */
export function createMemoryStore() {
  const dataKeys = new Map<string, DataKeyRow[]>();
  const credentials: CredentialRow[] = [];
  const meta = ({
    ciphertext: _ciphertext,
    ...rest
  }: CredentialRow): Omit<CredentialRow, 'ciphertext'> => rest;
  const store = {
    dataKeys,
    credentials,
    beforeInsertDataKey: undefined as undefined | ((orgId: string, epoch: number) => void),
    /** Stores a data key as if another replica had (no questions asked). */
    plantDataKey(orgId: string, row: DataKeyRow): void {
      dataKeys.set(orgId, [...(dataKeys.get(orgId) ?? []), row]);
    },
    currentDataKey(orgId: string): Promise<{ epoch: number; wrapped: Buffer } | undefined> {
      const rows = [...(dataKeys.get(orgId) ?? [])].sort((a, b) => b.epoch - a.epoch);
      const top = rows[0];
      return Promise.resolve(top && { epoch: top.epoch, wrapped: top.wrapped });
    },
    insertDataKey(
      orgId: string,
      epoch: number,
      kmsKeyId: string,
      wrapped: Buffer,
    ): Promise<Buffer> {
      store.beforeInsertDataKey?.(orgId, epoch);
      const rows = dataKeys.get(orgId) ?? [];
      let row = rows.find((r) => r.epoch === epoch);
      if (!row) {
        row = { epoch, kmsKeyId, wrapped: Buffer.from(wrapped) };
        dataKeys.set(orgId, [...rows, row]);
      }
      return Promise.resolve(Buffer.from(row.wrapped));
    },
    // Like the PostgreSQL store, answers the metadata only (typed as the full row there).
    insertCredential(
      row: Omit<CredentialRow, 'created_at' | 'rotated_at' | 'status'>,
    ): Promise<CredentialRow | undefined> {
      if (credentials.some((c) => c.org_id === row.org_id && c.id === row.id))
        return Promise.resolve(undefined);
      const stored: CredentialRow = {
        ...row,
        ciphertext: Buffer.from(row.ciphertext),
        status: 'active',
        created_at: new Date(),
        rotated_at: null,
      };
      credentials.push(stored);
      return Promise.resolve(meta(stored) as CredentialRow);
    },
    activeCredential(
      orgId: string,
      id: string,
    ): Promise<(CredentialRow & { wrapped_key: Buffer }) | undefined> {
      const row = credentials
        .filter((c) => c.org_id === orgId && c.id === id && c.status === 'active')
        .sort((a, b) => b.version - a.version)[0];
      const key = row && dataKeys.get(orgId)?.find((k) => k.epoch === row.key_epoch);
      return Promise.resolve(row && key && { ...row, wrapped_key: Buffer.from(key.wrapped) });
    },
    metadata(orgId: string, id: string): Promise<Omit<CredentialRow, 'ciphertext'> | undefined> {
      const row = credentials
        .filter((c) => c.org_id === orgId && c.id === id)
        .sort((a, b) => b.version - a.version)[0];
      return Promise.resolve(row && meta(row));
    },
    list(
      orgId: string,
      afterId: string,
      limit: number,
    ): Promise<Array<Omit<CredentialRow, 'ciphertext'>>> {
      const newest = new Map<string, CredentialRow>();
      for (const c of credentials) {
        if (c.org_id !== orgId || c.id <= afterId) continue;
        const seen = newest.get(c.id);
        if (!seen || seen.version < c.version) newest.set(c.id, c);
      }
      return Promise.resolve(
        [...newest.values()]
          .sort((a, b) => a.id.localeCompare(b.id))
          .slice(0, limit)
          .map(meta),
      );
    },
  } satisfies VaultStore & Record<string, unknown>;
  return store;
}

/** The in-memory vault store. */
export type MemoryStore = ReturnType<typeof createMemoryStore>;
