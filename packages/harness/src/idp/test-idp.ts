import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Adapter, type Token } from 'oidc-provider';

/** The audience tokens are minted for unless a test names another (an API's app id URI). */
export const TEST_IDP_AUDIENCE = 'api://fortress-gateway';
const CLIENT_ID = 'fortress-test-app';

/** A user token to mint: who the user is (Entra ID's claim names), for whom, for how long. */
export interface UserTokenSpec {
  /** The account id, which becomes "sub"; random when omitted. */
  sub?: string;
  /** Entra ID's object id of the user. */
  oid?: string;
  email?: string;
  preferred_username?: string;
  deviceid?: string;
  department?: string;
  groups?: string[];
  /** Any other claims. */
  claims?: Record<string, unknown>;
  /** "aud"; TEST_IDP_AUDIENCE when omitted. */
  audience?: string;
  /** Seconds until "exp" (default 600; negative for a token already expired). */
  lifetimeSeconds?: number;
  /** "nbf" relative to "iat" (default 0: valid from issue, as Entra ID sets it). */
  notBeforeSeconds?: number;
  /** The provider key that signs it (default RS256). */
  alg?: 'RS256' | 'ES256';
}

/** A real OpenID Connect provider on loopback, with its own signing keys. */
export interface TestIdp {
  /** Its issuer, exactly as "iss" carries it. */
  issuer: string;
  /** Its JWK set URI, as its discovery document publishes it. */
  jwksUri: string;
  /** Mints a user's access token, signed by the provider's own keys. */
  mintToken(spec?: UserTokenSpec): Promise<string>;
  /** false: the JWK set endpoint answers 503 (an IdP outage), true: it serves again. */
  setJwksAvailable(available: boolean): void;
  stop(): Promise<void>;
}

/** The provider's model storage: in memory, for one test run (JWT tokens store nothing). */
class MemoryAdapter implements Adapter {
  private readonly items = new Map<string, object>();
  upsert(id: string, payload: object): Promise<void> {
    this.items.set(id, payload);
    return Promise.resolve();
  }
  find(id: string): Promise<object | undefined> {
    return Promise.resolve(this.items.get(id));
  }
  findByUid(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  findByUserCode(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  consume(): Promise<void> {
    return Promise.resolve();
  }
  destroy(id: string): Promise<void> {
    this.items.delete(id);
    return Promise.resolve();
  }
  revokeByGrantId(): Promise<void> {
    return Promise.resolve();
  }
}

/** A fresh private signing JWK for the provider's keystore. */
function signingKey(alg: 'RS256' | 'ES256'): object {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

/**
 * Starts `oidc-provider` on 127.0.0.1 (port 0) with fresh RS256 and ES256 signing keys.
 *
 * Tokens are minted through the provider's own AccessToken class in its JWT format: the
 * provider builds the payload (iss, sub, aud, iat, exp, jti, client_id, plus the user's claims
 * from its extraTokenClaims hook, as a real deployment adds them), signs it with a key of its
 * keystore and publishes the public half at its real jwks_uri. No browser grant is driven:
 * that would exercise the provider's login pages, not the token a gateway has to verify.
 */
export async function startTestIdp(): Promise<TestIdp> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const specs = new WeakMap<Token, UserTokenSpec>();
  const provider = new Provider(issuer, {
    adapter: MemoryAdapter,
    jwks: { keys: [signingKey('RS256'), signingKey('ES256')] },
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: randomBytes(24).toString('hex'),
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      },
    ],
    features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true } },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    extraTokenClaims: (_ctx, token) => {
      const s = specs.get(token);
      if (!s) return undefined;
      const named = {
        oid: s.oid,
        email: s.email,
        preferred_username: s.preferred_username,
        deviceid: s.deviceid,
        department: s.department,
        groups: s.groups,
      };
      return {
        ...Object.fromEntries(Object.entries(named).filter(([, v]) => v !== undefined)),
        ...s.claims,
      };
    },
    formats: {
      customizers: {
        jwt: (_ctx, token, jwt) => {
          const iat = jwt.payload['iat'];
          if (typeof iat === 'number')
            jwt.payload['nbf'] = iat + (specs.get(token)?.notBeforeSeconds ?? 0);
        },
      },
    },
  });
  let jwksAvailable = true;
  const handle = provider.callback();
  server.on('request', (req, res) => {
    if (!jwksAvailable && req.url?.startsWith('/jwks')) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
      return;
    }
    handle(req, res);
  });
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string;
  };
  const client = await provider.Client.find(CLIENT_ID);
  if (!client) throw new Error('the test IdP lost its client');

  return {
    issuer,
    jwksUri: discovery.jwks_uri,
    async mintToken(spec = {}) {
      const token = new provider.AccessToken({
        accountId: spec.sub ?? `user-${randomBytes(6).toString('hex')}`,
        client,
        scope: 'openid',
        resourceServer: {
          audience: spec.audience ?? TEST_IDP_AUDIENCE,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: spec.alg ?? 'RS256' } },
        },
        expiresIn: spec.lifetimeSeconds ?? 600,
      });
      specs.set(token, spec);
      return token.save();
    },
    setJwksAvailable(available) {
      jwksAvailable = available;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
