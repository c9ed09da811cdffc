// oidc-provider ships no types; this is the part of its API the harness uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** A persisted model's storage (the harness keeps it in memory). */
  interface Adapter {
    upsert(id: string, payload: object, expiresIn: number): Promise<void>;
    find(id: string): Promise<object | undefined>;
    findByUid(uid: string): Promise<object | undefined>;
    findByUserCode(userCode: string): Promise<object | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  /** A resource server an access token is issued for. */
  interface ResourceServer {
    audience: string;
    scope?: string;
    accessTokenFormat: 'jwt' | 'opaque';
    jwt?: { sign?: { alg: string; kid?: string } };
  }

  interface Client {
    clientId: string;
  }

  interface AccessTokenInit {
    accountId: string;
    client: Client;
    scope?: string;
    resourceServer: ResourceServer;
    expiresIn?: number;
  }

  /** An issued token as the customizers see it. */
  interface Token {
    accountId?: string;
  }

  interface AccessToken extends Token {
    /** Issues the token; a JWT-format token comes back as its compact serialisation. */
    save(): Promise<string>;
  }

  interface Configuration {
    adapter?: new (name: string) => Adapter;
    jwks?: { keys: object[] };
    clients?: object[];
    features?: Record<string, { enabled: boolean }>;
    findAccount?: (
      ctx: unknown,
      id: string,
    ) => { accountId: string; claims(): Record<string, unknown> } | undefined;
    extraTokenClaims?: (
      ctx: unknown,
      token: Token,
    ) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
    formats?: {
      customizers?: {
        jwt?: (
          ctx: unknown,
          token: Token,
          jwt: { header?: Record<string, unknown>; payload: Record<string, unknown> },
        ) => void | Promise<void>;
      };
    };
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    Client: { find(id: string): Promise<Client | undefined> };
    AccessToken: new (init: AccessTokenInit) => AccessToken;
  }
}
