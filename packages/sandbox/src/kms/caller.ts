import type { IncomingMessage } from 'node:http';
import { KmsError } from './errors.js';

/** Who is calling, as far as this endpoint models identity. */
export interface Caller {
  /** Access key id from the SigV4 credential scope. */
  readonly accessKeyId: string;
  /** Principal string grants are matched against (`GranteePrincipal`). */
  readonly principal: string;
  /** Whether the caller acts as the account owner, allowed everything. */
  readonly isOwner: boolean;
}

/** How access key ids map to identities; see `startKmsServer` options. */
export interface CallerPolicy {
  /** The owner's access key id; undefined means every access key is the owner. */
  readonly ownerAccessKeyId: string | undefined;
  /** Access key id → principal ARN; unmapped keys use the access key id itself as principal. */
  readonly principals: Readonly<Record<string, string>>;
  /** Region the endpoint serves; a credential scoped to another region is refused like AWS. */
  readonly region: string;
}

// Credential=AKID/20250101/us-east-1/kms/aws4_request
const CREDENTIAL = /Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

/**
 * Identifies the caller from the SigV4 `Authorization` header. The signature is NOT verified:
 * this endpoint only stands in for KMS locally, and any secret key is accepted.
 */
export function identifyCaller(req: IncomingMessage, policy: CallerPolicy): Caller {
  const authorization = req.headers.authorization;
  if (authorization === undefined || authorization === '') {
    throw new KmsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const match = CREDENTIAL.exec(authorization);
  if (!authorization.startsWith('AWS4-HMAC-SHA256 ') || match === null) {
    throw new KmsError(
      'IncompleteSignatureException',
      'Authorization header requires a SigV4 Credential=AKID/date/region/service/aws4_request',
    );
  }
  const [, accessKeyId = '', , region = '', service = ''] = match;
  if (region !== policy.region || service !== 'kms') {
    throw new KmsError(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region and service, not '${region}/${service}'; ` +
        `this endpoint serves '${policy.region}/kms'`,
    );
  }
  return {
    accessKeyId,
    principal: policy.principals[accessKeyId] ?? accessKeyId,
    isOwner: policy.ownerAccessKeyId === undefined || policy.ownerAccessKeyId === accessKeyId,
  };
}
