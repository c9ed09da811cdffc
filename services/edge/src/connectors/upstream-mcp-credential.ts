import { createHmac, randomBytes } from 'node:crypto';

/** A decrypted connector credential, as the vault hands it over. */
export interface CredentialMaterial {
  kind: 'api_key' | 'username_password' | 'oauth2' | 'app';
  secret: Uint8Array;
  fields: Record<string, Uint8Array>;
}

/** The header that carries the credential upstream. */
export interface AuthHeader {
  readonly name: string;
  readonly value: string;
}

/**
 * Connector settings that shape the injection:
 * - `authHeader`: the header name (default `Authorization`), e.g. `X-API-Key`.
 * - `authScheme`: the scheme before the secret; default `Bearer` in `Authorization` and none in
 *   any other header (`X-API-Key: <secret>`). Ignored for username/password, which is Basic.
 */
export const AUTH_HEADER_SETTING = 'authHeader';
/** See {@link AUTH_HEADER_SETTING}. */
export const AUTH_SCHEME_SETTING = 'authScheme';

/** Headers the transport owns; a credential may not overwrite them. */
const RESERVED =
  /^(host|content-type|content-length|accept|connection|transfer-encoding|mcp-session-id|mcp-protocol-version|mcp-method|mcp-name|mcp-param-.*|last-event-id)$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Characters a header value cannot carry (CR, LF, NUL would split or break the request). */
const UNSAFE_VALUE = /[\r\n\0]/;

/** Why a credential cannot be injected; the message never quotes the secret. */
export class CredentialInjectionError extends Error {}

const decoder = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new CredentialInjectionError(`the credential's ${what} is not valid utf-8`);
  }
}

/** The header that carries `credential` upstream, as `settings` configure it. */
export function authHeaderFor(
  credential: CredentialMaterial,
  settings: Readonly<Record<string, string>>,
): AuthHeader {
  const configured = settings[AUTH_HEADER_SETTING]?.trim();
  const name = configured === undefined || configured === '' ? 'authorization' : configured;
  if (!TOKEN.test(name) || RESERVED.test(name.toLowerCase())) {
    throw new CredentialInjectionError(
      `setting ${AUTH_HEADER_SETTING} "${name}" is not a usable header name`,
    );
  }
  const secret = utf8(credential.secret, 'secret');
  if (secret === '') throw new CredentialInjectionError('the credential is empty');

  let value: string;
  switch (credential.kind) {
    case 'api_key':
    case 'oauth2': {
      const scheme =
        settings[AUTH_SCHEME_SETTING]?.trim() ??
        (name.toLowerCase() === 'authorization' ? 'Bearer' : '');
      if (scheme !== '' && !TOKEN.test(scheme)) {
        throw new CredentialInjectionError(
          `setting ${AUTH_SCHEME_SETTING} "${scheme}" is not a scheme`,
        );
      }
      value = scheme === '' ? secret : `${scheme} ${secret}`;
      break;
    }
    case 'username_password': {
      const username = credential.fields['username'];
      if (username === undefined)
        throw new CredentialInjectionError('the credential has no username');
      const user = utf8(username, 'username');
      if (user.includes(':')) throw new CredentialInjectionError('the username contains ":"');
      value = `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;
      break;
    }
    case 'app':
      // App credentials (e.g. a private key and an app id) need a token exchange that is
      // specific to each provider; upstream MCP servers take bearer tokens or basic auth.
      throw new CredentialInjectionError(
        'credential kind "app" is not supported for upstream mcp servers',
      );
  }
  if (UNSAFE_VALUE.test(value))
    throw new CredentialInjectionError('the credential contains a line break');
  return { name, value };
}

/** Keyed per process so a fingerprint cannot be checked against guessed secrets elsewhere. */
const FINGERPRINT_KEY = randomBytes(32);

/**
 * A fingerprint of everything that shapes the upstream connection: url, settings and the
 * credential. Equal fingerprints mean an open connection can be reused; it is an HMAC under a
 * per-process key, so it reveals nothing about the secret even if it is logged.
 */
export function connectionFingerprint(
  url: string,
  settings: Readonly<Record<string, string>>,
  credential: CredentialMaterial,
): string {
  const mac = createHmac('sha256', FINGERPRINT_KEY);
  const part = (bytes: Uint8Array | string) => {
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(buffer.length);
    mac.update(length).update(buffer);
  };
  const record = (entries: Record<string, Uint8Array | string>) => {
    const keys = Object.keys(entries).sort();
    part(String(keys.length));
    for (const key of keys) {
      part(key);
      part(entries[key] ?? '');
    }
  };
  part(url);
  record(settings);
  part(credential.kind);
  part(credential.secret);
  record(credential.fields);
  return mac.digest('hex');
}
