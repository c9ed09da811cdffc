import assert from 'node:assert/strict';
import {
  QUICKBOOKS_DEFAULTS,
  startFakeQuickbooks,
  type FakeQuickbooks,
} from '@fortress/sandbox/saas/quickbooks';
import { callTool } from '../../src/connectors/call-tool.js';
import type { CredentialMaterial } from '../../src/connectors/types.js';
import {
  assertMatchesOutputSchema,
  businessErrorOf,
  credential,
  deadline,
  field,
  instance,
  resultOf,
  secretOf,
  unavailableReason,
} from './support.js';

describe('accounting connector (QuickBooks Online)', () => {
  let fake: FakeQuickbooks;
  let stored: CredentialMaterial;
  beforeEach(async () => {
    fake = await startFakeQuickbooks();
    stored = credential('oauth2', '', {
      refresh_token: QUICKBOOKS_DEFAULTS.refreshToken,
      client_id: QUICKBOOKS_DEFAULTS.clientId,
      client_secret: QUICKBOOKS_DEFAULTS.clientSecret,
    });
  });
  afterEach(() => fake.close());

  const books = (settings: Record<string, string> = {}) =>
    instance('accounting', fake.url, {
      realmId: fake.realmId,
      tokenUrl: `${fake.url}/oauth2/v1/tokens/bearer`,
      ...settings,
    });
  /** Calls like the gateway: the refreshed credential replaces the stored one. */
  async function call(
    action: string,
    args: Record<string, unknown>,
    pageSize?: number,
    settings?: Record<string, string>,
  ) {
    const outcome = await callTool({
      instance: books(settings),
      credential: stored,
      action,
      args,
      signal: deadline(),
      ...(pageSize === undefined ? {} : { pageSize }),
    });
    if (outcome.refreshedCredential) stored = outcome.refreshedCredential;
    return outcome;
  }
  const queries = () =>
    fake.requests
      .filter((r) => r.path.endsWith('/query'))
      .map((r) => new URLSearchParams(r.query).get('query'));

  it('refreshes with HTTP Basic client auth and keeps the rotated refresh token', async () => {
    const outcome = await call('get_invoice', { id: '130' });
    resultOf(outcome);
    const token = fake.requests[0];
    assert.equal(token?.path, '/oauth2/v1/tokens/bearer');
    const basic = Buffer.from(
      `${QUICKBOOKS_DEFAULTS.clientId}:${QUICKBOOKS_DEFAULTS.clientSecret}`,
    ).toString('base64');
    assert.equal(token?.headers['authorization'], `Basic ${basic}`);
    assert.equal(new URLSearchParams(token?.body).get('client_secret'), null);
    assert.notEqual(field(stored, 'refresh_token'), QUICKBOOKS_DEFAULTS.refreshToken);
    assert.ok(Number(field(stored, 'expires_at')) > Date.now());
  });

  it('pages invoices with startposition/maxresults in the query text', async () => {
    const result = resultOf(await call('list_invoices', { limit: 100 }, 2));
    assertMatchesOutputSchema('accounting', 'list_invoices', result);
    assert.equal(result['count'], 6);
    assert.equal(result['has_more'], false);
    assert.deepEqual(queries(), [
      'select * from Invoice orderby TxnDate desc startposition 1 maxresults 2',
      'select * from Invoice orderby TxnDate desc startposition 3 maxresults 2',
      'select * from Invoice orderby TxnDate desc startposition 5 maxresults 2',
      'select * from Invoice orderby TxnDate desc startposition 7 maxresults 2',
    ]);
  });

  it('asks for one more than the limit to know whether more exist', async () => {
    const result = resultOf(await call('list_invoices', { limit: 3 }));
    assert.equal(result['count'], 3);
    assert.equal(result['has_more'], true);
    assert.deepEqual(queries(), [
      'select * from Invoice orderby TxnDate desc startposition 1 maxresults 4',
    ]);
  });

  it('filters invoices with quoted literals', async () => {
    const result = resultOf(
      await call('list_invoices', { customer_id: '1', unpaid_only: true, since: '2025-01-01' }),
    );
    assert.deepEqual(
      (result['invoices'] as { id: string }[]).map((i) => i.id),
      ['130'],
    );
    assert.equal(
      queries()[0],
      "select * from Invoice where CustomerRef = '1' and Balance > '0' and TxnDate >= '2025-01-01' orderby TxnDate desc startposition 1 maxresults 51",
    );
  });

  it('escapes quotes in a customer name filter', async () => {
    const result = resultOf(await call('list_customers', { name_contains: "Jeff's" }));
    assert.deepEqual(
      (result['customers'] as { display_name: string }[]).map((c) => c.display_name),
      ["Jeff's Jalopies"],
    );
    assert.match(queries()[0] ?? '', /DisplayName like '%Jeff\\'s%'/);
  });

  it('flattens the GeneralLedger report into entries with running balances', async () => {
    const result = resultOf(
      await call('read_ledger', {
        start_date: '2025-01-01',
        end_date: '2025-03-31',
        account_id: '84',
      }),
    );
    assertMatchesOutputSchema('accounting', 'read_ledger', result);
    const entries = result['entries'] as {
      account: string;
      transaction_type: string;
      amount: number;
      balance: number;
    }[];
    assert.ok(entries.every((e) => e.account === 'Accounts Receivable (A/R)'));
    const last = entries.at(-1);
    // Invoices total 240+1200+450+81+520+0.5, payments 450+520+0.5.
    assert.equal(last?.balance, 1521);
    assert.equal(result['currency'], 'USD');
  });

  it('cuts the ledger at the limit', async () => {
    const result = resultOf(
      await call('read_ledger', { start_date: '2025-01-01', end_date: '2025-03-31', limit: 2 }),
    );
    assert.equal(result['count'], 2);
    assert.equal(result['has_more'], true);
  });

  it('creates an invoice from lines', async () => {
    const result = resultOf(
      await call('create_invoice', {
        customer_id: '3',
        lines: [
          { amount: 400, description: 'Pen test', item_id: '3', quantity: 2 },
          { amount: 50, description: 'Report' },
        ],
        bill_email: 'ap@initech.example',
      }),
    );
    const sent = JSON.parse(fake.requests.at(-1)?.body ?? '{}') as { Line: unknown[] };
    assert.deepEqual(sent.Line[0], {
      Amount: 400,
      DetailType: 'SalesItemLineDetail',
      Description: 'Pen test',
      SalesItemLineDetail: { ItemRef: { value: '3' }, Qty: 2, UnitPrice: 200 },
    });
    const invoice = result['invoice'] as {
      total: number;
      balance: number;
      bill_email: string;
      lines: unknown[];
    };
    assert.equal(invoice.total, 450);
    assert.equal(invoice.balance, 450);
    assert.equal(invoice.bill_email, 'ap@initech.example');
    assert.equal(invoice.lines.length, 2);
  });

  const businessErrors = [
    {
      name: 'a missing invoice',
      action: 'get_invoice',
      args: { id: '999' },
      status: 400,
      message:
        /^Object Not Found: Object Not Found : Something you're trying to use has been made inactive.* \(code 610\)$/,
    },
    {
      name: 'an unknown customer',
      action: 'create_invoice',
      args: { customer_id: '77', lines: [{ amount: 1 }] },
      status: 400,
      message: /^Invalid Reference Id: .* \(code 2500\)$/,
    },
  ];
  for (const c of businessErrors) {
    it(`passes the Fault.Error message on for ${c.name}`, async () => {
      const error = businessErrorOf(await call(c.action, c.args));
      assert.equal(error.status, c.status);
      assert.match(error.message, c.message);
    });
  }

  it('answers a company the token is not for with a 403 business error', async () => {
    const error = businessErrorOf(
      await call('get_invoice', { id: '130' }, undefined, { realmId: '1234' }),
    );
    assert.equal(error.status, 403);
    assert.match(error.message, /ApplicationAuthorizationFailed/);
  });

  it('refreshes on the 401 fault and never passes on the token QuickBooks echoes', async () => {
    resultOf(await call('get_invoice', { id: '130' }));
    const before = secretOf(stored);
    fake.oauth.expireAccessTokens();
    // Pretend the token is not yet expired locally: only the 401 can reveal it.
    stored = {
      ...stored,
      fields: {
        ...stored.fields,
        expires_at: new TextEncoder().encode(String(Date.now() + 3_600_000)),
      },
    };
    resultOf(await call('get_invoice', { id: '130' }));
    assert.notEqual(secretOf(stored), before);
    // With every refresh token revoked, the 401 is final and its echo of the token is scrubbed.
    fake.oauth.expireAccessTokens();
    fake.oauth.revokeRefreshTokens();
    stored = {
      ...stored,
      fields: {
        ...stored.fields,
        expires_at: new TextEncoder().encode(String(Date.now() + 3_600_000)),
      },
    };
    const reason = unavailableReason(await call('get_invoice', { id: '130' }));
    assert.equal(
      reason,
      'Accounting (QuickBooks Online) refused the token refresh (400): invalid_grant',
    );
    const direct = await callTool({
      instance: books(),
      credential: {
        ...stored,
        kind: 'oauth2',
        fields: { expires_at: new TextEncoder().encode(String(Date.now() + 3_600_000)) },
      },
      action: 'get_invoice',
      args: { id: '130' },
      signal: deadline(),
    });
    const echoed = unavailableReason(direct);
    assert.match(
      echoed,
      /^Accounting \(QuickBooks Online\) did not accept the credentials \(401\): message=AuthenticationFailed; errorCode=003200; statusCode=401: Token expired: \[redacted\] \(code 3200\)$/,
    );
    assert.ok(!echoed.includes(secretOf(stored)));
  });
});
