import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Product, Tier } from '@fortress/proto/common/v1/common_pb';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  AuthenticateResponse,
  ExchangeTokenResponse,
  IdpConfigSchema,
} from '@fortress/proto/identity/v1/identity_pb';
import {
  startTestIdp,
  TEST_IDP_AUDIENCE,
  type TestIdp,
  type UserTokenSpec,
} from '@fortress/harness/idp/test-idp';
import { startIdentityFixture, type IdentityFixture } from './identity-fixture.js';

/** The orgs of the IdP tests, by role in them. */
export const ORGS = {
  /** Bank, its IdP configured Entra-style (oid, department, groups → roles). */
  bank: { id: 'org_bank1', tier: Tier.BANK },
  /** Zero Trust, its IdP configured with the defaults (sub). */
  zeroTrust: { id: 'org_zt1', tier: Tier.ZERO_TRUST },
  /** Bank, no IdP configured. */
  bankNoIdp: { id: 'org_banknoidp', tier: Tier.BANK },
  /** SOHO with an IdP configured. */
  sohoIdp: { id: 'org_sohoidp', tier: Tier.SOHO },
  /** SOHO, no IdP. */
  soho: { id: 'org_soho1', tier: Tier.SOHO },
  /** Bank with another IdP (another issuer and keys), the same audience. */
  other: { id: 'org_other1', tier: Tier.BANK },
} as const;
export type OrgName = keyof typeof ORGS;

/** An IdP configuration as an RPC takes it. */
export type ConfigInit = MessageInitShape<typeof IdpConfigSchema>;

/** Identity on PostgreSQL, two real IdPs, the orgs above with one org key each. */
export interface IdpWorld {
  f: IdentityFixture;
  idp: TestIdp;
  otherIdp: TestIdp;
  /** Org key secrets and ids by org name. */
  keys: Record<OrgName, { secret: string; id: string }>;
  /** Every token and key a test handled: none may reach a log line. */
  secrets: Set<string>;
  /** Mints a token (remembered as a secret) with the IdP of the bank org by default. */
  mint(spec?: UserTokenSpec, idp?: TestIdp): Promise<string>;
  authenticate(apiKey: string, idpToken?: string): Promise<AuthenticateResponse>;
  exchange(apiKey: string, idpToken?: string): Promise<ExchangeTokenResponse>;
  /** The bank org's configuration (Entra-style), with overrides. */
  bankConfig(overrides?: ConfigInit): ConfigInit;
  /** Sets the (frozen) identity clock to the real time the IdPs sign with. */
  syncClock(): void;
  /** A loopback URL where nothing listens (connection refused). */
  deadUrl(): Promise<string>;
  /** A loopback server that accepts and never answers (a hung IdP). */
  hungServer(): Promise<{ url: string; stop(): Promise<void> }>;
  stop(): Promise<void>;
}

/** Short JWKS timeout (the hung-IdP test waits for it); production cache and cooldown. */
export const TEST_IDP_SETTINGS = {
  timeoutMs: 400,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  clockToleranceSeconds: 30,
  maxExchangedTokenSeconds: 3600,
};

const listen = async (server: http.Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/** Starts the world: the clock starts at the real time, since the IdPs sign with it. */
export async function startIdpWorld(): Promise<IdpWorld> {
  const [f, idp, otherIdp] = await Promise.all([
    startIdentityFixture(new Date(), TEST_IDP_SETTINGS),
    startTestIdp(),
    startTestIdp(),
  ]);
  const secrets = new Set<string>();
  const bankConfig = (overrides: ConfigInit = {}): ConfigInit => ({
    issuer: idp.issuer,
    audiences: [TEST_IDP_AUDIENCE],
    jwksUri: idp.jwksUri,
    userIdClaim: 'oid',
    attributeClaims: ['department'],
    groupsClaim: 'groups',
    groupRoles: [{ group: 'g-approvers', roles: ['approver'] }],
    ...overrides,
  });
  const keys = {} as IdpWorld['keys'];
  for (const [name, org] of Object.entries(ORGS) as Array<[OrgName, (typeof ORGS)[OrgName]]>) {
    await f.admin.createOrg({ id: org.id, name, tier: org.tier });
    const key = await f.admin.createApiKey({
      orgId: org.id,
      label: `${name} key`,
      roles: ['developer'],
      products: [Product.PAT],
      patKeyId: 'pat_p1',
      patKeyVersion: 2,
    });
    keys[name] = { secret: key.secret, id: key.key?.id ?? '' };
    secrets.add(key.secret);
  }
  const configs: Array<[OrgName, ConfigInit]> = [
    ['bank', bankConfig()],
    ['zeroTrust', { issuer: idp.issuer, audiences: [TEST_IDP_AUDIENCE], jwksUri: idp.jwksUri }],
    ['sohoIdp', { issuer: idp.issuer, audiences: [TEST_IDP_AUDIENCE], jwksUri: idp.jwksUri }],
    [
      'other',
      { issuer: otherIdp.issuer, audiences: [TEST_IDP_AUDIENCE], jwksUri: otherIdp.jwksUri },
    ],
  ];
  for (const [name, config] of configs)
    await f.admin.setIdpConfig({ orgId: ORGS[name].id, config });
  const idpCall = (apiKey: string, idpToken = '') => ({
    apiKey,
    idpToken,
    context: { requestId: 'req_test' },
  });
  return {
    f,
    idp,
    otherIdp,
    keys,
    secrets,
    bankConfig,
    async mint(spec = {}, from = idp) {
      const token = await from.mintToken(spec);
      secrets.add(token);
      return token;
    },
    authenticate: (apiKey, idpToken) => f.identity.authenticate(idpCall(apiKey, idpToken)),
    async exchange(apiKey, idpToken) {
      const res = await f.identity.exchangeToken(idpCall(apiKey, idpToken));
      if (res.token) secrets.add(res.token);
      return res;
    },
    syncClock: () => f.advance(Date.now() - f.now().getTime()),
    async deadUrl() {
      const server = http.createServer();
      const url = await listen(server);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return url;
    },
    async hungServer() {
      const server = http.createServer(() => undefined);
      const url = await listen(server);
      return {
        url,
        stop: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      };
    },
    stop: async () => {
      await Promise.all([idp.stop(), otherIdp.stop()]);
      await f.stop();
    },
  };
}
