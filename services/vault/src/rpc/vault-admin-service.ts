import type { ServiceImpl } from '@connectrpc/connect';
import type { VaultAdminService } from '@fortress/proto/vault/v1/vault_pb';
import { createCredentialAdminRpc, type CredentialAdminDeps } from './credential-admin-rpc.js';
import { createKeyAdminRpc, type KeyAdminDeps } from './key-admin-rpc.js';

/**
 * The VaultAdminService handlers: credentials (secrets in, metadata out) and org keys (tier,
 * rotation, re-wrap progress, shredding). No handler ever returns a secret.
 */
export function createVaultAdminRpc(
  deps: CredentialAdminDeps & KeyAdminDeps,
): Partial<ServiceImpl<typeof VaultAdminService>> {
  return { ...createCredentialAdminRpc(deps), ...createKeyAdminRpc(deps) };
}
