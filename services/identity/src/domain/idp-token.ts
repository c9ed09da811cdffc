import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { UnavailableError } from '@fortress/kit/errors';
import type { IdpConfig } from './idp-config.js';

/** Why an IdP token was refused (the stable reason codes of AUTH_FAILURE_IDP_TOKEN_INVALID). */
export type IdpRefusal =
  | 'idp_token_expired'
  | 'idp_token_not_yet_valid'
  | 'idp_wrong_issuer'
  | 'idp_wrong_audience'
  | 'idp_token_invalid';

/** A verified token's claims, or why it was refused. */
export type IdpVerdict =
  | { ok: true; claims: JWTPayload & { exp: number } }
  | { ok: false; refusal: IdpRefusal; message: string };

/** How verification is tuned. */
export interface IdpVerifyOptions {
  now: Date;
  /** Allowed clock skew with the IdP, at most 60 s. */
  clockToleranceSeconds: number;
}

/** The longest token we parse at all (Entra tokens with many groups run to a few KB). */
const MAX_TOKEN_LENGTH = 16 * 1024;

const refuse = (refusal: IdpRefusal, message: string): IdpVerdict => ({
  ok: false,
  refusal,
  message,
});

/** Errors that say the token is bad, as opposed to the IdP's keys being unobtainable. */
function refusalOf(err: unknown): IdpVerdict | undefined {
  if (err instanceof errors.JWTExpired)
    return refuse('idp_token_expired', 'the identity provider token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud')
      return refuse(
        'idp_wrong_audience',
        "the identity provider token is not issued for this organisation's audience",
      );
    if (err.claim === 'iss')
      return refuse(
        'idp_wrong_issuer',
        "the identity provider token is not from this organisation's identity provider",
      );
    if (err.claim === 'nbf')
      return refuse('idp_token_not_yet_valid', 'the identity provider token is not valid yet');
    return refuse('idp_token_invalid', `the identity provider token lacks a valid "${err.claim}"`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return refuse(
      'idp_token_invalid',
      "the identity provider token is signed with an algorithm this organisation's identity provider does not use",
    );
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    return refuse(
      'idp_token_invalid',
      "the identity provider token is not signed by one of the identity provider's keys",
    );
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return refuse('idp_token_invalid', 'the identity provider token signature does not verify');
  if (
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JOSENotSupported
  )
    return refuse('idp_token_invalid', 'the identity provider token is not a valid JWT');
  return undefined;
}

/**
 * Verifies an IdP token against the org's configuration: a JWS signed with one of the
 * configured asymmetric algorithms by a key of the IdP's JWK set, the exact issuer, one of
 * the audiences, an expiry (required) not passed and a not-before / issued-at not ahead, each
 * within the clock tolerance. A refusal is a verdict; keys that cannot be fetched (JWKS down,
 * slow or garbled) throw UnavailableError, so the caller fails closed instead of refusing.
 */
export async function verifyIdpToken(
  token: string,
  config: IdpConfig,
  keys: JWTVerifyGetKey,
  options: IdpVerifyOptions,
): Promise<IdpVerdict> {
  if (token.length > MAX_TOKEN_LENGTH)
    return refuse('idp_token_invalid', 'the identity provider token is too long');
  const tolerance = Math.min(Math.max(options.clockToleranceSeconds, 0), 60);
  try {
    const { payload } = await jwtVerify(token, keys, {
      issuer: config.issuer,
      audience: config.audiences,
      algorithms: config.algorithms,
      requiredClaims: ['exp'],
      currentDate: options.now,
      clockTolerance: tolerance,
    });
    // jose checks "iat" only with maxTokenAge; a token issued in the future is not valid yet.
    const nowSeconds = Math.floor(options.now.getTime() / 1000);
    if (typeof payload.iat === 'number' && payload.iat > nowSeconds + tolerance)
      return refuse('idp_token_not_yet_valid', 'the identity provider token is not valid yet');
    return { ok: true, claims: payload as JWTPayload & { exp: number } };
  } catch (err) {
    const refused = refusalOf(err);
    if (refused) return refused;
    throw new UnavailableError(
      'idp_unavailable',
      "the identity provider's signing keys could not be fetched",
      { cause: err },
    );
  }
}
