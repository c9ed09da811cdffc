import type pg from 'pg';
import { sealCredential } from '../../src/domain/credential-crypto.js';
import type { VaultApp } from '../../src/wiring.js';

/** The secret of credential `i` of a seeded org (derived, so tests can check any of them). */
export const seededSecret = (orgId: string, i: number) => `sk-ant-api03-${orgId}-${i}-seeded`;
/** The id of credential `i` of a seeded org. */
export const seededId = (i: number) => `cred_${String(i).padStart(6, '0')}`;

/**
 * Stores `count` credentials of an org quickly: sealed exactly as the vault seals them (its
 * current epoch, a key per credential), inserted in bulk by the superuser.
 */
export async function seedCredentials(
  admin: pg.Pool,
  app: VaultApp,
  orgId: string,
  count: number,
): Promise<void> {
  const epoch = await app.orgKeys.current(orgId);
  const key = epoch.scheme === 'aes' ? await app.orgKeys.aesKey(epoch) : undefined;
  try {
    for (let start = 0; start < count; start += 1000) {
      const ids: string[] = [];
      const ciphertexts: Buffer[] = [];
      const wrapped: Buffer[] = [];
      for (let i = start; i < Math.min(count, start + 1000); i++) {
        const id = seededId(i);
        const material = Buffer.from(seededSecret(orgId, i));
        const sealed = sealCredential(epoch, key, material, {
          orgId,
          credentialId: id,
          version: 1,
        });
        ids.push(id);
        ciphertexts.push(sealed.ciphertext);
        wrapped.push(sealed.wrappedDek);
      }
      await admin.query(
        `INSERT INTO vault.credentials (org_id, id, version, kind, label, last_four, status, key_epoch, ciphertext, wrapped_dek)
         SELECT $1, u.id, 1, 'API_KEY', u.id, 'eded', 'active', $2, u.c, u.w
         FROM unnest($3::text[], $4::bytea[], $5::bytea[]) AS u(id, c, w)`,
        [orgId, epoch.epoch, ids, ciphertexts, wrapped],
      );
    }
  } finally {
    key?.fill(0);
  }
}
