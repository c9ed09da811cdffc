import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { PrincipalKind, Product, Tier } from '@fortress/proto/common/v1/common_pb';
import { AuthFailure, type ExchangeTokenResponse } from '@fortress/proto/identity/v1/identity_pb';
import { remoteReason } from '@fortress/kit/errors';
import { ORGS, startIdpWorld, type IdpWorld } from '../support/idp-world.js';
import { refused } from '../support/session-world.js';

/** A timestamp that must be there, as a Date. */
const dateOf = (t: Timestamp | undefined): Date => {
  assert.ok(t, 'a timestamp');
  return timestampDate(t);
};

const ADA = {
  oid: 'oid-ada',
  email: 'ada@bank.example',
  deviceid: 'dev-ada-1',
  department: 'risk',
  groups: ['g-approvers'],
};
const TOKEN_SHAPE = /^fk_tok_[A-Za-z0-9]{43}$/;

/** Expects a refused exchange: no token, this failure and reason code. */
function refusedExchange(res: ExchangeTokenResponse, failure: AuthFailure, code: string): void {
  assert.equal(res.token, '');
  assert.equal(res.expiresAt, undefined);
  assert.equal(AuthFailure[res.failure], AuthFailure[failure]);
  assert.equal(res.reason?.code, code);
}

describe('ExchangeToken and Fortress tokens (identity on PostgreSQL, oidc-provider as the IdP)', function () {
  this.timeout(120_000);
  let w: IdpWorld;
  before(async () => {
    w = await startIdpWorld();
  });
  after(() => w?.stop());
  beforeEach(() => w.syncClock());

  /** Exchanges the bank key and a fresh token for ADA; the Fortress token. */
  const exchanged = async (lifetimeSeconds = 600) => {
    const res = await w.exchange(w.keys.bank.secret, await w.mint({ ...ADA, lifetimeSeconds }));
    assert.match(res.token, TOKEN_SHAPE, res.reason?.message);
    return res;
  };

  it('issues fk_tok_… until the IdP token expires, standing for the USER it names', async () => {
    const idpToken = await w.mint({ ...ADA, lifetimeSeconds: 600 });
    const exp = new Date(
      (
        JSON.parse(Buffer.from(idpToken.split('.')[1] ?? '', 'base64url').toString()) as {
          exp: number;
        }
      ).exp * 1000,
    );
    const res = await w.exchange(w.keys.bank.secret, idpToken);
    assert.match(res.token, TOKEN_SHAPE);
    assert.ok(res.expiresAt);
    assert.equal(dateOf(res.expiresAt).getTime(), exp.getTime());
    assert.equal(res.principal?.kind, PrincipalKind.USER);
    assert.equal(res.principal?.userId, 'oid-ada');
    assert.equal(res.failure, AuthFailure.UNSPECIFIED);

    const auth = await w.authenticate(res.token);
    assert.equal(auth.authenticated, true, auth.reason?.message);
    const p = auth.principal;
    assert.equal(p?.kind, PrincipalKind.USER);
    assert.equal(p?.orgId, ORGS.bank.id);
    assert.equal(p?.tier, Tier.BANK);
    assert.equal(p?.userId, 'oid-ada');
    assert.equal(p?.subjectId, 'oid-ada');
    assert.equal(p?.email, 'ada@bank.example');
    assert.equal(p?.deviceId, 'dev-ada-1');
    assert.deepEqual(p?.attributes, { department: 'risk' });
    assert.deepEqual(p?.roles, ['developer', 'approver']);
    assert.equal(p?.apiKeyId, w.keys.bank.id);
    assert.equal(p?.patKeyId, 'pat_p1');
    assert.equal(p?.patKeyVersion, 2);
  });

  it('caps the token at an hour when the IdP token lives longer', async () => {
    const before = w.f.now().getTime();
    const res = await exchanged(3 * 3600);
    assert.equal(dateOf(res.expiresAt).getTime(), before + 3600_000);
  });

  it('keeps only the SHA-256 of the token, with the key id and the user claims', async () => {
    const res = await exchanged();
    const hash = createHash('sha256').update(res.token).digest();
    const { rows } = await w.f.pg.admin.query<{ api_key_id: string; user_id: string; row: string }>(
      'SELECT api_key_id, user_id, t::text AS row FROM identity.exchanged_tokens t WHERE token_hash = $1',
      [hash],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.api_key_id, w.keys.bank.id);
    assert.equal(rows[0]?.user_id, 'oid-ada');
    const all = await w.f.pg.admin.query<{ row: string }>(
      'SELECT t::text AS row FROM identity.exchanged_tokens t',
    );
    for (const r of all.rows)
      for (const s of w.secrets) assert.ok(!r.row.includes(s), 'a token or key in a row');
  });

  it('answers EXPIRED fortress_token_expired once the token has expired', async () => {
    const res = await exchanged(120);
    const left = dateOf(res.expiresAt).getTime() - w.f.now().getTime();
    assert.ok(left > 100_000 && left <= 120_000, `${left} ms left`);
    w.f.advance(left - 1);
    try {
      assert.equal((await w.authenticate(res.token)).authenticated, true);
      w.f.advance(1);
      const late = await w.authenticate(res.token);
      refused(late, AuthFailure.EXPIRED, 'fortress_token_expired');
      assert.equal(late.principal?.orgId, ORGS.bank.id);
    } finally {
      w.f.advance(-left);
    }
  });

  it('ends every token of an org key at once when the key is revoked', async () => {
    const key = await w.f.admin.createApiKey({
      orgId: ORGS.bank.id,
      label: 'short-lived',
      roles: ['developer'],
      products: [Product.PAT],
      patKeyId: 'pat_p1',
    });
    w.secrets.add(key.secret);
    const tokens = await Promise.all(
      [1, 2].map(async () => (await w.exchange(key.secret, await w.mint(ADA))).token),
    );
    for (const t of tokens) assert.equal((await w.authenticate(t)).authenticated, true);
    await w.f.admin.revokeApiKey({ orgId: ORGS.bank.id, keyId: key.key?.id ?? '' });
    for (const t of tokens)
      refused(await w.authenticate(t), AuthFailure.REVOKED, 'api_key_revoked');
    refusedExchange(
      await w.exchange(key.secret, await w.mint(ADA)),
      AuthFailure.REVOKED,
      'api_key_revoked',
    );
  });

  it('refuses a Fortress token presented with an IdP token (ambiguous), and one nobody issued', async () => {
    const res = await exchanged();
    refused(
      await w.authenticate(res.token, await w.mint(ADA)),
      AuthFailure.MALFORMED_CREDENTIAL,
      'ambiguous_credentials',
    );
    const forged = `fk_tok_${'Z'.repeat(43)}`;
    refused(await w.authenticate(forged), AuthFailure.UNKNOWN_CREDENTIAL, 'invalid_api_key');
  });

  const refusals: Array<{
    name: string;
    call: (w: IdpWorld) => Promise<Parameters<IdpWorld['exchange']>>;
    failure: AuthFailure;
    code: string;
    orgKnown: boolean;
  }> = [
    {
      name: 'no IdP token',
      call: (w) => Promise.resolve([w.keys.bank.secret]),
      failure: AuthFailure.IDP_TOKEN_REQUIRED,
      code: 'idp_token_required',
      orgKnown: true,
    },
    {
      name: 'a token for another audience',
      call: async (w) => [w.keys.bank.secret, await w.mint({ ...ADA, audience: 'api://x' })],
      failure: AuthFailure.IDP_TOKEN_INVALID,
      code: 'idp_wrong_audience',
      orgKnown: true,
    },
    {
      name: 'a token just expired, still inside the clock tolerance',
      call: async (w) => [w.keys.bank.secret, await w.mint({ ...ADA, lifetimeSeconds: -5 })],
      failure: AuthFailure.IDP_TOKEN_INVALID,
      code: 'idp_token_expired',
      orgKnown: true,
    },
    {
      name: 'an org without an IdP',
      call: async (w) => [w.keys.soho.secret, await w.mint(ADA)],
      failure: AuthFailure.IDP_TOKEN_INVALID,
      code: 'idp_not_configured',
      orgKnown: true,
    },
    {
      name: 'a Fortress token instead of an org key',
      call: async (w) => [(await exchanged()).token, await w.mint(ADA)],
      failure: AuthFailure.MALFORMED_CREDENTIAL,
      code: 'malformed_api_key',
      orgKnown: false,
    },
    {
      name: 'a key nobody issued',
      call: async (w) => [`fk_live_${'Q'.repeat(43)}`, await w.mint(ADA)],
      failure: AuthFailure.UNKNOWN_CREDENTIAL,
      code: 'invalid_api_key',
      orgKnown: false,
    },
  ];
  for (const c of refusals) {
    it(`refuses an exchange with ${c.name} (${c.code}), issuing nothing`, async () => {
      const args = await c.call(w);
      const { rows: before } = await w.f.pg.admin.query<{ n: string }>(
        'SELECT count(*) AS n FROM identity.exchanged_tokens',
      );
      const res = await w.exchange(...args);
      refusedExchange(res, c.failure, c.code);
      if (c.orgKnown) assert.ok(res.principal?.orgId, 'the org is named for the audit');
      else assert.equal(res.principal, undefined);
      const { rows: after } = await w.f.pg.admin.query<{ n: string }>(
        'SELECT count(*) AS n FROM identity.exchanged_tokens',
      );
      assert.equal(after[0]?.n, before[0]?.n);
    });
  }

  it('fails UNAVAILABLE when the IdP keys cannot be fetched, issuing nothing', async () => {
    await w.f.admin.setIdpConfig({
      orgId: ORGS.bankNoIdp.id,
      config: w.bankConfig({ jwksUri: `${await w.deadUrl()}/jwks` }),
    });
    await assert.rejects(w.exchange(w.keys.bankNoIdp.secret, await w.mint(ADA)), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Unavailable);
      assert.equal(remoteReason(err), 'idp_unavailable');
      return true;
    });
  });

  it('logged the issues without a token or key', () => {
    assert.ok(w.f.logLines.some((l) => l.includes('fortress token issued')));
    for (const line of w.f.logLines)
      for (const s of w.secrets)
        assert.ok(!line.includes(s), `a secret in a log line: ${line.slice(0, 100)}`);
  });
});
