import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { PrincipalSchema } from '@fortress/proto/common/v1/common_pb';
import {
  AuthenticateResponseSchema,
  AuthFailure,
  type AuthenticateRequest,
  type IdentityService,
} from '@fortress/proto/identity/v1/identity_pb';
import {
  authenticate,
  authFailure,
  type AuthOutcome,
  type KeyDirectory,
} from '../domain/authenticate.js';
import { authenticateSession, type SessionDirectory } from '../domain/authenticate-session.js';

/** The IdentityService handlers: authentication on the request path. */
export function createIdentityRpc(deps: {
  directory: KeyDirectory;
  sessions: SessionDirectory;
  now?: () => Date;
}): Partial<ServiceImpl<typeof IdentityService>> {
  const clock = deps.now ?? (() => new Date());

  /** An admin session token goes alone; an org key goes with an optional IdP token. */
  const decide = (req: AuthenticateRequest): Promise<AuthOutcome> => {
    if (!req.sessionToken)
      return authenticate(deps.directory, { apiKey: req.apiKey, idpToken: req.idpToken });
    if (req.apiKey) {
      return Promise.resolve(
        authFailure(
          AuthFailure.MALFORMED_CREDENTIAL,
          'ambiguous_credentials',
          'present either an api key or a session token, not both',
        ),
      );
    }
    return authenticateSession(deps.sessions, req.sessionToken, clock());
  };

  return {
    async authenticate(req) {
      const outcome = await decide(req);
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
