import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { PrincipalSchema } from '@fortress/proto/common/v1/common_pb';
import {
  AuthenticateResponseSchema,
  type IdentityService,
} from '@fortress/proto/identity/v1/identity_pb';
import { authenticate, type KeyDirectory } from '../domain/authenticate.js';

/** The IdentityService handlers: authentication on the request path. */
export function createIdentityRpc(deps: {
  directory: KeyDirectory;
}): Partial<ServiceImpl<typeof IdentityService>> {
  return {
    async authenticate(req) {
      const outcome = await authenticate(deps.directory, {
        apiKey: req.apiKey,
        idpToken: req.idpToken,
      });
      if (outcome.ok) {
        return create(AuthenticateResponseSchema, {
          authenticated: true,
          principal: outcome.principal,
        });
      }
      return create(AuthenticateResponseSchema, {
        authenticated: false,
        failure: outcome.failure,
        reason: outcome.reason,
        ...(outcome.orgId ? { principal: create(PrincipalSchema, { orgId: outcome.orgId }) } : {}),
      });
    },
  };
}
