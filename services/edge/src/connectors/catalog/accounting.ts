/**
 * Accounting, modelled on the QuickBooks Online Accounting API v3
 * (https://quickbooks.api.intuit.com/v3/company/{realmId}). Lists go through the query
 * endpoint (`select … startposition … maxresults …`, paged in the query text), the ledger is
 * the GeneralLedger report, errors are `{"Fault": {"Error": [{"Message", "Detail", "code"}]}}`
 * (lowercase `fault` on 401). Auth: OAuth 2 tokens refreshed at Intuit's bearer endpoint with
 * the client id and secret in HTTP Basic; refresh tokens rotate.
 */
import { list, num, rec, str, text } from '../json-values.js';
import {
  array,
  boolean,
  integer,
  limitArg,
  listOutput,
  nullableNumber,
  nullableString,
  number,
  object,
  string,
} from '../schema-kit.js';
import type { ConnectorDefinition, JsonSchema, RequestInputs } from '../types.js';
import { CREATES, READS } from './hints.js';
import {
  customer,
  errorMessage,
  invoice,
  ledgerEntries,
  qboLiteral,
} from './quickbooks-mapping.js';

const company = '/v3/company/{settings.realmId}';
const minor = { minorversion: '{settings.minorVersion}' };
const date = (description: string) => string(description, { pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const entityId = (description: string) => string(description, { pattern: '^[0-9]{1,20}$' });

/** A query-endpoint request for `entity`, filtered and paged in the query text. */
function queryRequest(
  entity: string,
  conditions: readonly string[],
  orderBy: string,
  { page }: RequestInputs,
) {
  const where = conditions.length > 0 ? ` where ${conditions.join(' and ')}` : '';
  const start = (page?.offset ?? 0) + 1;
  const size = page?.size ?? 1000;
  return {
    method: 'GET' as const,
    path: `${company}/query`,
    query: { query: '{qbo_query}', ...minor },
    values: {
      qbo_query: `select * from ${entity}${where} orderby ${orderBy} startposition ${start} maxresults ${size}`,
    },
  };
}

const lineSchema = object({
  description: nullableString(),
  amount: nullableNumber(),
  item: nullableString(),
  quantity: nullableNumber(),
});

const invoiceSchema: JsonSchema = object({
  id: string(),
  doc_number: nullableString(),
  customer_id: string(),
  customer_name: nullableString(),
  txn_date: string(),
  due_date: nullableString(),
  total: nullableNumber(),
  balance: nullableNumber(),
  currency: nullableString(),
  bill_email: nullableString(),
  lines: array(lineSchema),
});

const customerSchema: JsonSchema = object({
  id: string(),
  display_name: string(),
  company_name: nullableString(),
  email: nullableString(),
  phone: nullableString(),
  balance: nullableNumber(),
  active: boolean(),
});

const LEDGER_COLUMNS =
  'tx_date,txn_type,doc_num,name,memo,split_acc,subt_nat_amount,rbal_nat_amount';

const ledgerEntrySchema = object({
  account: string(),
  date: string(),
  transaction_type: string(),
  number: nullableString(),
  name: nullableString(),
  memo: nullableString(),
  split_account: nullableString(),
  amount: nullableNumber(),
  balance: nullableNumber(),
});

const lineInput = object(
  {
    amount: number('The line amount.', { exclusiveMinimum: 0, maximum: 1e9 }),
    description: string('What is billed.', { maxLength: 4000 }),
    item_id: entityId('The product/service id; 1 (Services) by default.'),
    quantity: number('How many units; the unit price is the amount divided by it.', {
      exclusiveMinimum: 0,
    }),
  },
  ['amount'],
);

/** The Accounting connector (QuickBooks Online). */
export const accounting: ConnectorDefinition = {
  type: 'accounting',
  title: 'Accounting (QuickBooks Online)',
  description: 'QuickBooks Online books: general ledger, invoices, customers.',
  baseUrlHint:
    'https://quickbooks.api.intuit.com (sandbox: https://sandbox-quickbooks.api.intuit.com)',
  defaultBaseUrl: 'https://quickbooks.api.intuit.com',
  settings: [
    {
      name: 'realmId',
      description: 'The QuickBooks company id.',
      required: true,
      pattern: '^[0-9]{1,20}$',
    },
    {
      name: 'minorVersion',
      description: 'The API minor version.',
      required: false,
      default: '75',
      pattern: '^[0-9]{1,3}$',
    },
    {
      name: 'tokenUrl',
      description:
        'OAuth token endpoint; default https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer.',
      required: false,
    },
  ],
  auth: {
    oauth2: {
      scheme: 'oauth2_refresh',
      tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
      clientAuth: 'basic',
      encoding: 'form',
    },
  },
  pagination: { style: 'offset_in_request', maxPageSize: 1000 },
  errors: { message: errorMessage },
  testConnection: {
    request: { method: 'GET', path: `${company}/companyinfo/{settings.realmId}`, query: minor },
  },
  tools: [
    {
      action: 'read_ledger',
      title: 'Read the general ledger',
      description: 'Reads general-ledger entries for a period, optionally of one account.',
      annotations: READS,
      inputSchema: object(
        {
          start_date: date('First day, YYYY-MM-DD.'),
          end_date: date('Last day, YYYY-MM-DD.'),
          account_id: entityId('Only this account.'),
          limit: limitArg(500, 5000),
        },
        ['start_date', 'end_date'],
      ),
      outputSchema: object({
        start_date: string(),
        end_date: string(),
        currency: nullableString(),
        entries: array(ledgerEntrySchema),
        count: integer(),
        has_more: boolean('Whether entries were cut at the limit.'),
      }),
      request: {
        method: 'GET',
        path: `${company}/reports/GeneralLedger`,
        query: {
          start_date: '{start_date}',
          end_date: '{end_date}',
          account: '{account_id}',
          columns: LEDGER_COLUMNS,
          ...minor,
        },
      },
      result: ({ args, body }) => {
        const all = ledgerEntries(body);
        const limit = typeof args['limit'] === 'number' ? args['limit'] : all.length;
        const header = rec(rec(body)['Header']);
        return {
          start_date: text(header['StartPeriod']) || args['start_date'],
          end_date: text(header['EndPeriod']) || args['end_date'],
          currency: str(header['Currency']),
          entries: all.slice(0, limit),
          count: Math.min(all.length, limit),
          has_more: all.length > limit,
        };
      },
    },
    {
      action: 'list_invoices',
      title: 'List invoices',
      description:
        'Lists invoices, newest first, optionally of one customer, unpaid only, or since a date.',
      annotations: READS,
      inputSchema: object(
        {
          customer_id: entityId('Only this customer.'),
          unpaid_only: boolean('Only invoices with a balance left.', { default: false }),
          since: date('Only invoices dated on or after this day.'),
          limit: limitArg(50, 1000),
        },
        [],
      ),
      outputSchema: listOutput('invoices', invoiceSchema),
      request: (inputs) => {
        const { args } = inputs;
        const conditions: string[] = [];
        if (typeof args['customer_id'] === 'string')
          conditions.push(`CustomerRef = ${qboLiteral(args['customer_id'])}`);
        if (args['unpaid_only'] === true) conditions.push(`Balance > '0'`);
        if (typeof args['since'] === 'string')
          conditions.push(`TxnDate >= ${qboLiteral(args['since'])}`);
        return queryRequest('Invoice', conditions, 'TxnDate desc', inputs);
      },
      list: { itemsAt: [['QueryResponse', 'Invoice']] },
      result: ({ items, hasMore }) => ({
        invoices: items.map(invoice),
        count: items.length,
        has_more: hasMore,
      }),
    },
    {
      action: 'get_invoice',
      title: 'Get an invoice',
      description: 'Reads one invoice.',
      annotations: READS,
      inputSchema: object({ id: entityId('The invoice id.') }),
      outputSchema: object({ invoice: invoiceSchema }),
      request: { method: 'GET', path: `${company}/invoice/{id}`, query: minor },
      result: ({ body }) => ({ invoice: invoice(rec(body)['Invoice']) }),
    },
    {
      action: 'create_invoice',
      title: 'Create an invoice',
      description: 'Creates an invoice for a customer with one or more lines.',
      annotations: CREATES,
      inputSchema: object(
        {
          customer_id: entityId('The customer billed.'),
          lines: array(lineInput, 'The invoice lines.', { minItems: 1, maxItems: 100 }),
          due_date: date('When payment is due, YYYY-MM-DD.'),
          bill_email: string('Where QuickBooks sends the invoice.', {
            maxLength: 100,
            format: 'email',
          }),
        },
        ['customer_id', 'lines'],
      ),
      outputSchema: object({ invoice: invoiceSchema }),
      request: ({ args }) => ({
        method: 'POST',
        path: `${company}/invoice`,
        query: minor,
        body: {
          CustomerRef: { value: '{customer_id}' },
          Line: '{qbo_lines}',
          DueDate: '{due_date}',
          BillEmail: { Address: '{bill_email}' },
        },
        values: {
          qbo_lines: list(args['lines']).map((line) => {
            const l = rec(line);
            const quantity = num(l['quantity']);
            const amount = num(l['amount']) ?? 0;
            return {
              Amount: amount,
              DetailType: 'SalesItemLineDetail',
              ...(typeof l['description'] === 'string' ? { Description: l['description'] } : {}),
              SalesItemLineDetail: {
                ItemRef: { value: typeof l['item_id'] === 'string' ? l['item_id'] : '1' },
                ...(quantity === null ? {} : { Qty: quantity, UnitPrice: amount / quantity }),
              },
            };
          }),
        },
      }),
      result: ({ body }) => ({ invoice: invoice(rec(body)['Invoice']) }),
    },
    {
      action: 'list_customers',
      title: 'List customers',
      description: 'Lists customers by display name, optionally those whose name contains a text.',
      annotations: READS,
      inputSchema: object(
        {
          name_contains: string('Part of the display name.', {
            minLength: 1,
            maxLength: 100,
            pattern: '^[^%\\\\]+$',
          }),
          limit: limitArg(50, 1000),
        },
        [],
      ),
      outputSchema: listOutput('customers', customerSchema),
      request: (inputs) => {
        const name = inputs.args['name_contains'];
        const conditions =
          typeof name === 'string' ? [`DisplayName like ${qboLiteral(`%${name}%`)}`] : [];
        return queryRequest('Customer', conditions, 'DisplayName', inputs);
      },
      list: { itemsAt: [['QueryResponse', 'Customer']] },
      result: ({ items, hasMore }) => ({
        customers: items.map(customer),
        count: items.length,
        has_more: hasMore,
      }),
    },
  ],
};
