/**
 * A fake QuickBooks Online Accounting API v3 (the Accounting connector) for the endpoints the
 * connector uses, under `/v3/company/{realmId}`:
 * - `GET companyinfo/{realmId}`;
 * - `GET query?query=…` (query language subset, qbo-query.ts) on Invoice and Customer;
 * - `GET invoice/{id}`, `POST invoice`;
 * - `GET reports/GeneralLedger?start_date&end_date[&account]` built from invoices and payments;
 * - `POST /oauth2/v1/tokens/bearer`: Intuit's refresh grant (client id and secret in HTTP
 *   Basic), rotating refresh tokens.
 * Errors are `{"Fault":{"Error":[{"Message","Detail","code"}],"type"},"time"}`; a refused
 * token gets the lowercase `fault` body of QuickBooks' 401, which echoes the token it refused
 * (on purpose here: it is the worst case for the gateway's secret scrubbing).
 */
import { randomBytes } from 'node:crypto';
import {
  basicAuth,
  bearerToken,
  formBody,
  jsonBody,
  route,
  startFakeServer,
  textOf,
  type FakeReply,
  type FakeRequest,
  type FakeSaasServer,
} from './fake-http.js';
import { createOAuthIssuer, type OAuthIssuer } from './oauth-issuer.js';
import { MAX_RESULTS, parseQboQuery, passes } from './qbo-query.js';
import { fault, INVALID_REFERENCE, OBJECT_NOT_FOUND, time } from './quickbooks-faults.js';
import { generalLedger } from './quickbooks-ledger.js';
import {
  seedCustomers,
  seedInvoices,
  seedItems,
  seedPayments,
  type QboEntity,
} from './quickbooks-data.js';

/** Options of the fake QuickBooks. */
export interface FakeQuickbooksOptions {
  readonly host?: string;
  readonly port?: number;
  readonly realmId?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly refreshToken?: string;
  /** Lifetime of access tokens; QuickBooks' is one hour. */
  readonly accessTokenTtlSeconds?: number;
}

/** Default credentials of the fake (demo values, not secrets). */
export const QUICKBOOKS_DEFAULTS = {
  realmId: '9341453908712345',
  clientId: 'ABfortressDemoClientId0123456789',
  clientSecret: 'qbo-demo-client-secret-3f6b',
  refreshToken: 'AB11fortressDemoRefreshToken',
} as const;

/** A running fake QuickBooks. */
export interface FakeQuickbooks extends FakeSaasServer {
  readonly oauth: OAuthIssuer;
  readonly realmId: string;
  readonly invoices: readonly QboEntity[];
}

/** Queryable fields per entity, with how to read each from the stored JSON. */
const QUERYABLE: Record<string, Record<string, (e: QboEntity) => unknown>> = {
  Invoice: {
    Id: (e) => e['Id'],
    DocNumber: (e) => e['DocNumber'],
    TxnDate: (e) => e['TxnDate'],
    DueDate: (e) => e['DueDate'],
    Balance: (e) => e['Balance'],
    TotalAmt: (e) => e['TotalAmt'],
    CustomerRef: (e) => (e['CustomerRef'] as { value?: unknown } | undefined)?.value,
  },
  Customer: {
    Id: (e) => e['Id'],
    DisplayName: (e) => e['DisplayName'],
    CompanyName: (e) => e['CompanyName'],
    Balance: (e) => e['Balance'],
    Active: (e) => e['Active'],
  },
};

/** Starts a fake QuickBooks Online on loopback. */
export async function startFakeQuickbooks(
  options: FakeQuickbooksOptions = {},
): Promise<FakeQuickbooks> {
  const realmId = options.realmId ?? QUICKBOOKS_DEFAULTS.realmId;
  const oauth = createOAuthIssuer({
    clients: [
      {
        clientId: options.clientId ?? QUICKBOOKS_DEFAULTS.clientId,
        clientSecret: options.clientSecret ?? QUICKBOOKS_DEFAULTS.clientSecret,
      },
    ],
    refreshTokens: [options.refreshToken ?? QUICKBOOKS_DEFAULTS.refreshToken],
    ttlSeconds: options.accessTokenTtlSeconds ?? 3600,
    rotate: true,
    prefix: 'eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..',
  });
  const customers = seedCustomers();
  const items = seedItems();
  const invoices = seedInvoices(customers, items);
  const payments = seedPayments();
  let nextInvoice = 200;
  let nextDoc = 1043;

  /** Token and realm checks; `undefined` when the call may go on. */
  function gate(req: FakeRequest): FakeReply | undefined {
    const token = bearerToken(req);
    if (token === undefined || !oauth.accepts(token)) {
      const known = token !== undefined && oauth.knows(token);
      return {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="Intuit", error="invalid_token"' },
        json: {
          warnings: null,
          intuitObject: null,
          fault: {
            error: [
              {
                message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401',
                detail: known ? `Token expired: ${token}` : `Token invalid: ${token ?? ''}`,
                code: '3200',
                element: null,
              },
            ],
            type: 'AUTHENTICATION',
          },
          report: null,
          queryResponse: null,
          batchItemResponse: [],
          attachableResponse: [],
          syncErrorResponse: null,
          requestId: null,
          time: Date.now(),
          status: null,
          cdcresponse: [],
        },
      };
    }
    if (req.params['realm'] !== realmId) {
      return fault(403, 'SERVICE', [
        {
          Message: 'message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403',
          Detail: '',
          code: '3100',
        },
      ]);
    }
    return undefined;
  }

  const guarded = (handler: (req: FakeRequest) => FakeReply) => (req: FakeRequest) =>
    gate(req) ?? handler(req);

  function query(req: FakeRequest): FakeReply {
    const parsed = parseQboQuery(req.query.get('query') ?? '');
    if (!parsed.ok)
      return fault(400, 'ValidationFault', [
        { Message: parsed.error.message, Detail: parsed.error.detail, code: parsed.error.code },
      ]);
    const q = parsed.query;
    const fields = QUERYABLE[q.entity];
    const source =
      q.entity === 'Invoice' ? invoices : q.entity === 'Customer' ? customers : undefined;
    if (fields === undefined || source === undefined) {
      return fault(400, 'ValidationFault', [
        {
          Message: 'Invalid query',
          Detail: `QueryValidationError: Invalid entity name: ${q.entity}`,
          code: '4001',
        },
      ]);
    }
    const used = [...q.where.map((w) => w.field), ...(q.orderBy ? [q.orderBy.field] : [])];
    const unknown = used.find((f) => fields[f] === undefined);
    if (unknown !== undefined) {
      return fault(400, 'ValidationFault', [
        {
          Message: 'Invalid query',
          Detail: `QueryValidationError: property '${unknown}' is not queryable`,
          code: '4001',
        },
      ]);
    }
    let rows = source.filter((e) => q.where.every((w) => passes(fields[w.field]?.(e), w)));
    if (q.count)
      return { status: 200, json: { QueryResponse: { totalCount: rows.length }, time: time() } };
    if (q.orderBy) {
      const read = fields[q.orderBy.field] ?? (() => null);
      const desc = q.orderBy.desc;
      rows = [...rows].sort((a, b) => {
        const x = read(a) as string | number;
        const y = read(b) as string | number;
        return x === y ? 0 : (x < y ? -1 : 1) * (desc ? -1 : 1);
      });
    }
    const page = rows.slice(
      q.startPosition - 1,
      q.startPosition - 1 + Math.min(q.maxResults, MAX_RESULTS),
    );
    return {
      status: 200,
      json: {
        QueryResponse:
          page.length === 0
            ? {}
            : { [q.entity]: page, startPosition: q.startPosition, maxResults: page.length },
        time: time(),
      },
    };
  }

  function createInvoice(req: FakeRequest): FakeReply {
    if (!(req.headers['content-type'] ?? '').includes('application/json')) {
      return fault(415, 'ValidationFault', [
        {
          Message: 'Unsupported Media Type',
          Detail: 'Content-Type must be application/json',
          code: '415',
        },
      ]);
    }
    const body = (jsonBody(req) ?? {}) as Record<string, unknown>;
    const customerId = (body['CustomerRef'] as { value?: unknown } | undefined)?.value;
    const customer = customers.find((c) => c['Id'] === customerId && c['Active'] === true);
    if (customer === undefined) return INVALID_REFERENCE(`CustomerRef ${textOf(customerId)}`);
    const lines = Array.isArray(body['Line']) ? (body['Line'] as Record<string, unknown>[]) : [];
    if (lines.length === 0) {
      return fault(400, 'ValidationFault', [
        {
          Message: 'Required param missing, need to supply the required value for the API',
          Detail: 'Required parameter Line is missing in the request',
          code: '2020',
        },
      ]);
    }
    const saleLines: Record<string, unknown>[] = [];
    for (const [index, line] of lines.entries()) {
      const detail = (line['SalesItemLineDetail'] ?? {}) as Record<string, unknown>;
      const itemId = (detail['ItemRef'] as { value?: unknown } | undefined)?.value ?? '1';
      const item = items.find((it) => it['Id'] === itemId);
      if (item === undefined) return INVALID_REFERENCE(`ItemRef ${textOf(itemId)}`);
      const amount = Number(line['Amount']);
      if (!Number.isFinite(amount)) {
        return fault(400, 'ValidationFault', [
          {
            Message: 'Invalid Number',
            Detail: `Invalid Number : Amount on line ${index + 1}`,
            code: '2040',
          },
        ]);
      }
      saleLines.push({
        Id: String(index + 1),
        LineNum: index + 1,
        ...(typeof line['Description'] === 'string' ? { Description: line['Description'] } : {}),
        Amount: amount,
        DetailType: 'SalesItemLineDetail',
        SalesItemLineDetail: {
          ...detail,
          ItemRef: { value: itemId, name: item['Name'] },
          TaxCodeRef: { value: 'NON' },
        },
      });
    }
    const total =
      Math.round(saleLines.reduce((sum, l) => sum + Number(l['Amount']), 0) * 100) / 100;
    const today = new Date().toISOString().slice(0, 10);
    const invoice: QboEntity = {
      Id: String(nextInvoice++),
      SyncToken: '0',
      domain: 'QBO',
      sparse: false,
      DocNumber: String(nextDoc++),
      TxnDate: today,
      DueDate:
        typeof body['DueDate'] === 'string'
          ? body['DueDate']
          : new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
      CurrencyRef: { value: 'USD', name: 'United States Dollar' },
      CustomerRef: { value: customer['Id'], name: customer['DisplayName'] },
      Line: [
        ...saleLines,
        { Amount: total, DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} },
      ],
      TotalAmt: total,
      Balance: total,
      BillEmail: body['BillEmail'] ?? customer['PrimaryEmailAddr'],
      EmailStatus: 'NotSet',
      MetaData: { CreateTime: time(), LastUpdatedTime: time() },
    };
    invoices.push(invoice);
    return { status: 200, json: { Invoice: invoice, time: time() } };
  }

  const company = '/v3/company/:realm';
  const routes = [
    route(
      'GET',
      `${company}/companyinfo/:id`,
      guarded((req) =>
        req.params['id'] !== realmId
          ? OBJECT_NOT_FOUND(`CompanyInfo ${req.params['id'] ?? ''}`)
          : {
              status: 200,
              json: {
                CompanyInfo: {
                  Id: '1',
                  CompanyName: 'Fortress Demo Books',
                  LegalName: 'Fortress Demo Books LLC',
                  CompanyAddr: {
                    Line1: '1 Market St',
                    City: 'San Francisco',
                    CountrySubDivisionCode: 'CA',
                    PostalCode: '94105',
                  },
                  Country: 'US',
                  Email: { Address: 'books@fortress-demo.example' },
                  FiscalYearStartMonth: 'January',
                  SupportedLanguages: 'en',
                  domain: 'QBO',
                  sparse: false,
                },
                time: time(),
              },
            },
      ),
    ),
    route('GET', `${company}/query`, guarded(query)),
    route(
      'GET',
      `${company}/invoice/:id`,
      guarded((req) => {
        const inv = invoices.find((i) => i['Id'] === req.params['id']);
        return inv === undefined
          ? OBJECT_NOT_FOUND(`Invoice ${req.params['id'] ?? ''}`)
          : { status: 200, json: { Invoice: inv, time: time() } };
      }),
    ),
    route('POST', `${company}/invoice`, guarded(createInvoice)),
    route(
      'GET',
      `${company}/reports/GeneralLedger`,
      guarded((req) => generalLedger({ invoices, customers, payments }, req)),
    ),
    route('POST', '/oauth2/v1/tokens/bearer', (req) => {
      const client = basicAuth(req);
      if (client === undefined || !oauth.clientValid(client.user, client.password))
        return { status: 401, json: { error: 'invalid_client' } };
      const form = formBody(req);
      if (form.get('grant_type') !== 'refresh_token')
        return { status: 400, json: { error: 'unsupported_grant_type' } };
      const result = oauth.refresh(client.user, client.password, form.get('refresh_token') ?? '');
      if (!result.ok) return { status: 400, json: { error: 'invalid_grant' } };
      return {
        status: 200,
        json: {
          token_type: 'bearer',
          expires_in: result.expiresIn,
          refresh_token: result.refreshToken,
          x_refresh_token_expires_in: 8_726_400,
          access_token: result.accessToken,
        },
      };
    }),
  ];

  const server = await startFakeServer({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    routes,
    notFound: () => ({ status: 404, text: 'Not Found' }),
    unavailable: fault(503, 'SystemFault', [
      {
        Message: 'Service Unavailable',
        Detail: 'The service is temporarily unavailable.',
        code: '10000',
      },
    ]),
    headers: () => ({ intuit_tid: randomBytes(12).toString('hex') }),
  });
  return { ...server, oauth, realmId, invoices };
}
