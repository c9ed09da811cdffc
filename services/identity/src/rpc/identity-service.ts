import type { MemberAdmission } from '../domain/member-admission.js';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import { PrincipalSchema } from '@fortress/proto/common/v1/common_pb';
import {
  AuthenticateResponseSchema,
  AuthFailure,
  ExchangeTokenResponseSchema,
  type AuthenticateRequest,
  type IdentityService,
} from '@fortress/proto/identity/v1/identity_pb';
import { UnavailableError } from '@fortress/kit/errors';
import type { Logger } from '@fortress/kit/log';
import type { AuthRefusal } from '../domain/auth-outcome.js';
import {
  authenticate,
  authFailure,
  type AuthOutcome,
  type KeyDirectory,
} from '../domain/authenticate.js';
import { authenticateSession, type SessionDirectory } from '../domain/authenticate-session.js';
import { exchangeToken, type ExchangeDeps } from '../domain/exchange-token.js';
import type { IdpVerifier } from '../domain/idp-user.js';

/** What a refusal carries back: the failure, its reason, and the org when it is known. */
const refusalFields = (outcome: AuthRefusal) => ({
  failure: outcome.failure,
  reason: outcome.reason,
  ...(outcome.orgId ? { principal: create(PrincipalSchema, { orgId: outcome.orgId }) } : {}),
});

/** The IdentityService handlers: authentication on the request path, and token exchange. */
export function createIdentityRpc(deps: {
  directory: KeyDirectory;
  sessions: SessionDirectory;
  idp: IdpVerifier;
  tokens: ExchangeDeps['tokens'];
  maxExchangedTokenSeconds: number;
  logger: Logger;
  now?: () => Date;
  /** Admits IdP users as members (seats) and refuses deactivated ones. */
  members?: MemberAdmission;
}): Partial<ServiceImpl<typeof IdentityService>> {
  const clock = deps.now ?? (() => new Date());
  const auth = {
    directory: deps.directory,
    idp: deps.idp,
    now: clock,
    ...(deps.members ? { members: deps.members } : {}),
  };

  /** Logs why an IdP could not be reached (never the token), and fails the call closed. */
  const failClosed = (err: unknown, requestId: string | undefined): never => {
    if (err instanceof UnavailableError)
      deps.logger.warn({ err: err.cause, requestId }, 'identity provider keys unavailable');
    throw err;
  };

  /** An admin session token goes alone; an org key goes with an optional IdP token. */
  const decide = (req: AuthenticateRequest): Promise<AuthOutcome> => {
    if (!req.sessionToken)
      return authenticate(auth, { apiKey: req.apiKey, idpToken: req.idpToken });
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
      const outcome = await decide(req).catch((err: unknown) =>
        failClosed(err, req.context?.requestId),
      );
      if (outcome.ok) {
        return create(AuthenticateResponseSchema, {
          authenticated: true,
          principal: outcome.principal,
        });
      }
      return create(AuthenticateResponseSchema, {
        authenticated: false,
        ...refusalFields(outcome),
      });
    },

    async exchangeToken(req) {
      const outcome = await exchangeToken(
        {
          ...auth,
          tokens: deps.tokens,
          maxLifetimeSeconds: deps.maxExchangedTokenSeconds,
        },
        { apiKey: req.apiKey, idpToken: req.idpToken },
      ).catch((err: unknown) => failClosed(err, req.context?.requestId));
      if (!outcome.ok) return create(ExchangeTokenResponseSchema, refusalFields(outcome));
      deps.logger.info(
        {
          orgId: outcome.principal.orgId,
          apiKeyId: outcome.principal.apiKeyId,
          userId: outcome.principal.userId,
          expiresAt: outcome.expiresAt.toISOString(),
          requestId: req.context?.requestId,
        },
        'fortress token issued',
      );
      return create(ExchangeTokenResponseSchema, {
        token: outcome.token,
        expiresAt: timestampFromDate(outcome.expiresAt),
        principal: outcome.principal,
      });
    },
  };
}
