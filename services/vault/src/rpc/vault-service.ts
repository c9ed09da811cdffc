import { create, fromBinary } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  CredentialKind,
  ResolveCredentialResponseSchema,
  SecretFieldsSchema,
  type VaultService,
} from '@fortress/proto/vault/v1/vault_pb';
import { verifyDecisionToken } from '@fortress/kit/decision-token';
import { InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@fortress/kit/errors';
import { peerIdKey } from '@fortress/kit/rpc-context';
import { spiffeId } from '@fortress/kit/tls';
import type { CryptoKey, KeyObject } from 'jose';
import type { CredentialVault } from '../domain/credential-vault.js';

/** What resolution needs. */
export interface VaultRpcDeps {
  vault: CredentialVault;
  /** Policy's public key, which verifies decision tokens. */
  decisionKey: CryptoKey | KeyObject;
}

const EDGE = spiffeId('edge');

/** Copies bytes out of a buffer that is about to be zeroed. */
const copy = (b: Uint8Array) => new Uint8Array(b);

/**
 * The VaultService handlers. Plaintext leaves only toward the edge (its mTLS identity) and
 * only with a decision token that binds this org, credential and request.
 */
export function createVaultRpc(deps: VaultRpcDeps): Partial<ServiceImpl<typeof VaultService>> {
  return {
    async resolveCredential(req, ctx) {
      if (ctx.values.get(peerIdKey) !== EDGE) {
        throw new PermissionDeniedError('caller_not_edge', 'only the edge may resolve credentials');
      }
      for (const [field, value] of [
        ['org_id', req.orgId],
        ['credential_ref', req.credentialRef],
        ['request_id', req.requestId],
      ] as const) {
        if (!value) throw new InvalidArgumentError(field, `${field} is required`);
      }
      const verdict = await verifyDecisionToken(deps.decisionKey, req.decisionToken, {
        orgId: req.orgId,
        credentialRef: req.credentialRef,
        requestId: req.requestId,
      });
      if (!verdict.ok) {
        throw new PermissionDeniedError(
          `decision_token_${verdict.refusal}`,
          `the decision token is ${verdict.refusal.replace('_', ' ')}`,
        );
      }
      const resolved = await deps.vault.resolve(req.orgId, req.credentialRef);
      if (!resolved)
        throw new NotFoundError(
          'credential_not_found',
          `credential "${req.credentialRef}" does not exist`,
        );
      try {
        const fields = fromBinary(SecretFieldsSchema, resolved.material);
        return create(ResolveCredentialResponseSchema, {
          kind:
            CredentialKind[resolved.kind as keyof typeof CredentialKind] ??
            CredentialKind.UNSPECIFIED,
          version: resolved.version,
          material: {
            secret: copy(fields.secret),
            fields: Object.fromEntries(Object.entries(fields.fields).map(([k, v]) => [k, copy(v)])),
          },
        });
      } finally {
        resolved.material.fill(0);
      }
    },
  };
}
