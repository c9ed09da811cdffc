import { Code, ConnectError, type Client } from '@connectrpc/connect';
import type { CredentialMetadata, VaultAdminService } from '@fortress/proto/vault/v1/vault_pb';

/** A vault credential's metadata (never its secret), or undefined when there is none. */
export async function credentialMetadata(
  vaultAdmin: Client<typeof VaultAdminService>,
  orgId: string,
  id: string,
  opts: { timeoutMs: number },
): Promise<CredentialMetadata | undefined> {
  try {
    return (await vaultAdmin.getCredential({ orgId, id }, opts)).credential;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  }
}
