import { CreateGrantCommand, CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';

/** What a customer lets the vault do with its key (Bank and Zero Trust orgs). */
export const VAULT_GRANT_OPERATIONS = [
  'GenerateDataKey',
  'GenerateDataKeyPairWithoutPlaintext',
  'Decrypt',
  'DescribeKey',
] as const;

/**
 * Grants the vault use of a customer's key for one org, as the customer would: the grant is
 * scoped to the org by encryption context. Returns the grant id (to revoke it).
 */
export async function grantVault(
  customer: KMSClient,
  keyArn: string,
  orgId: string,
  vaultPrincipal: string,
): Promise<string> {
  const { GrantId } = await customer.send(
    new CreateGrantCommand({
      KeyId: keyArn,
      GranteePrincipal: vaultPrincipal,
      Operations: [...VAULT_GRANT_OPERATIONS],
      Constraints: { EncryptionContextSubset: { 'fortress:org': orgId } },
    }),
  );
  if (!GrantId) throw new Error('KMS returned no grant id');
  return GrantId;
}

/** A new key in the customer's account, granted to the vault for one org. */
export async function customerKeyFor(
  customer: KMSClient,
  orgId: string,
  vaultPrincipal: string,
): Promise<{ keyArn: string; grantId: string }> {
  const { KeyMetadata } = await customer.send(new CreateKeyCommand({ Description: orgId }));
  const keyArn = KeyMetadata?.Arn;
  if (!keyArn) throw new Error('KMS returned no key ARN');
  return { keyArn, grantId: await grantVault(customer, keyArn, orgId, vaultPrincipal) };
}
