/**
 * Seed data of the fake QuickBooks Online company: customers (with PII in contact fields and
 * notes), products, ledger accounts, invoices and the payments received against them.
 */

/** A QuickBooks entity as the fake stores it: the API's own JSON. */
export type QboEntity = Record<string, unknown>;

/** A received payment, which the general ledger needs beside the invoices. */
export interface QboPayment {
  id: string;
  date: string;
  customerId: string;
  invoiceId: string;
  amount: number;
}

/** Ledger accounts the report uses. */
export const ACCOUNTS = {
  receivable: { id: '84', name: 'Accounts Receivable (A/R)' },
  income: { id: '1', name: 'Services' },
  undeposited: { id: '4', name: 'Undeposited Funds' },
} as const;

const meta = (day: string) => ({
  CreateTime: `${day}T09:00:00-08:00`,
  LastUpdatedTime: `${day}T09:00:00-08:00`,
});

/** The customers. */
export function seedCustomers(): QboEntity[] {
  const customer = (
    id: string,
    name: string,
    email: string | null,
    phone: string | null,
    balance: number,
    extra: object = {},
  ) => ({
    Id: id,
    SyncToken: '0',
    domain: 'QBO',
    sparse: false,
    DisplayName: name,
    CompanyName: name,
    PrimaryEmailAddr: email === null ? undefined : { Address: email },
    PrimaryPhone: phone === null ? undefined : { FreeFormNumber: phone },
    BillAddr: {
      Id: `${id}0`,
      Line1: `${id}00 Market St`,
      City: 'San Francisco',
      CountrySubDivisionCode: 'CA',
      PostalCode: '94105',
    },
    Balance: balance,
    BalanceWithJobs: balance,
    Active: true,
    Taxable: false,
    CurrencyRef: { value: 'USD', name: 'United States Dollar' },
    PreferredDeliveryMethod: 'Email',
    MetaData: meta('2024-11-04'),
    ...extra,
  });
  return [
    customer('1', "Amy's Bird Sanctuary", 'birds@example.com', '(650) 555-3311', 239, {
      Notes: 'Owner Amy Roe, SSN 078-05-1120 for the 1099.',
    }),
    customer('2', 'Globex Banking', 'jane.roe@example.com', '+1 415-555-0134', 1200),
    customer('3', 'Initech', 'john.doe@example.org', '(212) 555-0198', 0, {
      Notes: 'Pays by card 4111 1111 1111 1111.',
    }),
    customer('4', "Jeff's Jalopies", 'jeff@example.net', null, 81),
    customer('5', 'Priya Patel Consulting', 'priya.patel@example.net', '+44 20 7946 0958', 0),
  ];
}

/** The products and services. */
export function seedItems(): QboEntity[] {
  const item = (id: string, name: string, price: number) => ({
    Id: id,
    Name: name,
    Type: 'Service',
    UnitPrice: price,
    Active: true,
    IncomeAccountRef: { value: ACCOUNTS.income.id, name: ACCOUNTS.income.name },
  });
  return [item('1', 'Services', 0), item('2', 'Hours', 120), item('3', 'Consulting', 200)];
}

/** The invoices, built from lines so totals and balances agree. */
export function seedInvoices(
  customers: readonly QboEntity[],
  items: readonly QboEntity[],
): QboEntity[] {
  const nameOf = (list: readonly QboEntity[], id: string, key: string) => {
    const value = list.find((x) => x['Id'] === id)?.[key];
    return typeof value === 'string' ? value : '';
  };
  const invoice = (
    id: string,
    doc: string,
    customerId: string,
    date: string,
    due: string,
    lines: [string, string, number, number][],
    paid: number,
    email: string | null,
  ): QboEntity => {
    const saleLines = lines.map(([itemId, description, qty, price], i) => ({
      Id: String(i + 1),
      LineNum: i + 1,
      Description: description,
      Amount: qty * price,
      DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: {
        ItemRef: { value: itemId, name: nameOf(items, itemId, 'Name') },
        Qty: qty,
        UnitPrice: price,
        TaxCodeRef: { value: 'NON' },
      },
    }));
    const total = saleLines.reduce((sum, l) => sum + l.Amount, 0);
    return {
      Id: id,
      SyncToken: '0',
      domain: 'QBO',
      sparse: false,
      DocNumber: doc,
      TxnDate: date,
      DueDate: due,
      CurrencyRef: { value: 'USD', name: 'United States Dollar' },
      CustomerRef: { value: customerId, name: nameOf(customers, customerId, 'DisplayName') },
      Line: [
        ...saleLines,
        { Amount: total, DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} },
      ],
      TotalAmt: total,
      Balance: total - paid,
      BillEmail: email === null ? undefined : { Address: email },
      EmailStatus: 'NotSet',
      PrintStatus: 'NeedToPrint',
      MetaData: meta(date),
    };
  };
  return [
    invoice(
      '130',
      '1037',
      '1',
      '2025-01-06',
      '2025-02-05',
      [['2', 'Bird house installation', 2, 120]],
      0,
      'birds@example.com',
    ),
    invoice(
      '131',
      '1038',
      '2',
      '2025-01-14',
      '2025-02-13',
      [['3', 'Fraud review workshop', 6, 200]],
      0,
      'jane.roe@example.com',
    ),
    invoice(
      '132',
      '1039',
      '3',
      '2025-01-20',
      '2025-02-19',
      [['1', 'Setup fee', 1, 450]],
      450,
      'john.doe@example.org',
    ),
    invoice(
      '133',
      '1040',
      '4',
      '2025-02-03',
      '2025-03-05',
      [['2', 'Engine diagnostics', 1, 81]],
      0,
      null,
    ),
    invoice(
      '134',
      '1041',
      '5',
      '2025-02-17',
      '2025-03-19',
      [
        ['3', 'Architecture review', 2, 200],
        ['2', 'Follow-up call', 1, 120],
      ],
      520,
      'priya.patel@example.net',
    ),
    invoice(
      '135',
      '1042',
      '1',
      '2025-03-01',
      '2025-03-31',
      [['1', 'Feeder refill', 1, 0.5]],
      0.5,
      'birds@example.com',
    ),
  ];
}

/** Payments against invoices (for the ledger). */
export function seedPayments(): QboPayment[] {
  return [
    { id: '201', date: '2025-02-10', customerId: '3', invoiceId: '132', amount: 450 },
    { id: '202', date: '2025-03-03', customerId: '5', invoiceId: '134', amount: 520 },
    { id: '203', date: '2025-03-02', customerId: '1', invoiceId: '135', amount: 0.5 },
  ];
}
