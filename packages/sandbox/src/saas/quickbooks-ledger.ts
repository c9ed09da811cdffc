/**
 * The GeneralLedger report of the fake QuickBooks: invoices post to Accounts Receivable and
 * Services income, payments move money from receivables to Undeposited Funds; each account is
 * a section of data rows with a running balance, in the report JSON QuickBooks sends.
 */
import { textOf, type FakeReply, type FakeRequest } from './fake-http.js';
import { ACCOUNTS, type QboEntity, type QboPayment } from './quickbooks-data.js';
import { fault, time } from './quickbooks-faults.js';

/** The books a report is built from. */
export interface Books {
  readonly invoices: readonly QboEntity[];
  readonly customers: readonly QboEntity[];
  readonly payments: readonly QboPayment[];
}

/** The GeneralLedger report for the request's period (and accounts), like QuickBooks'. */
export function generalLedger(books: Books, req: FakeRequest): FakeReply {
  const { invoices, customers, payments } = books;
  const start = req.query.get('start_date') ?? '';
  const end = req.query.get('end_date') ?? '';
  const dateOk = (d: string) => /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(d));
  if (!dateOk(start) || !dateOk(end)) {
    return fault(400, 'ValidationFault', [
      {
        Message: 'Invalid Date',
        Detail: `Invalid date: start_date=${start} end_date=${end}`,
        code: '2010',
      },
    ]);
  }
  const accountFilter = (req.query.get('account') ?? '').split(',').filter(Boolean);
  type Entry = {
    date: string;
    type: string;
    txnId: string;
    doc: string;
    name: string;
    memo: string;
    split: string;
    amount: number;
  };
  const byAccount = new Map<string, Entry[]>();
  const post = (accountId: string, entry: Entry) =>
    byAccount.set(accountId, [...(byAccount.get(accountId) ?? []), entry]);
  for (const inv of invoices) {
    const date = String(inv['TxnDate']);
    if (date < start || date > end) continue;
    const name = textOf((inv['CustomerRef'] as { name?: unknown }).name);
    const amount = Number(inv['TotalAmt']);
    const base = {
      date,
      type: 'Invoice',
      txnId: String(inv['Id']),
      doc: textOf(inv['DocNumber']),
      name,
    };
    post(ACCOUNTS.receivable.id, { ...base, memo: '', split: ACCOUNTS.income.name, amount });
    post(ACCOUNTS.income.id, {
      ...base,
      memo: textOf(((inv['Line'] as QboEntity[])[0] ?? {})['Description']),
      split: ACCOUNTS.receivable.name,
      amount,
    });
  }
  for (const p of payments) {
    if (p.date < start || p.date > end) continue;
    const name = textOf(customers.find((c) => c['Id'] === p.customerId)?.['DisplayName']);
    const base = {
      date: p.date,
      type: 'Payment',
      txnId: p.id,
      doc: '',
      name,
      memo: `Payment for invoice ${p.invoiceId}`,
    };
    post(ACCOUNTS.undeposited.id, { ...base, split: ACCOUNTS.receivable.name, amount: p.amount });
    post(ACCOUNTS.receivable.id, {
      ...base,
      split: ACCOUNTS.undeposited.name,
      amount: -p.amount,
    });
  }
  const money = (n: number) => n.toFixed(2);
  const sections = Object.values(ACCOUNTS)
    .filter(
      (a) => byAccount.has(a.id) && (accountFilter.length === 0 || accountFilter.includes(a.id)),
    )
    .map((a) => {
      let balance = 0;
      const rows = (byAccount.get(a.id) ?? [])
        .sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : 0))
        .map((e) => {
          balance += e.amount;
          return {
            ColData: [
              { value: e.date },
              { value: e.type, id: e.txnId },
              { value: e.doc },
              { value: e.name, id: '' },
              { value: e.memo },
              { value: e.split, id: '' },
              { value: money(e.amount) },
              { value: money(balance) },
            ],
            type: 'Data',
          };
        });
      return {
        Header: {
          ColData: [
            { value: a.name, id: a.id },
            ...Array.from({ length: 7 }, () => ({ value: '' })),
          ],
        },
        Rows: { Row: rows },
        Summary: {
          ColData: [
            { value: `Total for ${a.name}` },
            ...Array.from({ length: 5 }, () => ({ value: '' })),
            { value: money(balance) },
            { value: '' },
          ],
        },
        type: 'Section',
      };
    });
  const column = (title: string, type: string) => ({
    ColTitle: title,
    ColType: type,
    MetaData: [{ Name: 'ColKey', Value: type }],
  });
  return {
    status: 200,
    json: {
      Header: {
        Time: time(),
        ReportName: 'GeneralLedger',
        ReportBasis: 'Accrual',
        StartPeriod: start,
        EndPeriod: end,
        Currency: 'USD',
        Option: [{ Name: 'NoReportData', Value: sections.length === 0 ? 'true' : 'false' }],
      },
      Columns: {
        Column: [
          column('Date', 'tx_date'),
          column('Transaction Type', 'txn_type'),
          column('Num', 'doc_num'),
          column('Name', 'name'),
          column('Memo/Description', 'memo'),
          column('Split', 'split_acc'),
          column('Amount', 'subt_nat_amount'),
          column('Balance', 'rbal_nat_amount'),
        ],
      },
      Rows: { Row: sections },
    },
  };
}
