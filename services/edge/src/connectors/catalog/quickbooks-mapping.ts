/**
 * The pure mappings of the Accounting connector (QuickBooks Online): query-language literals,
 * Invoice and Customer objects onto the tools' output shapes, the GeneralLedger report's nested
 * sections onto flat entries, and the message of a Fault body.
 */
import { bool, isRecord, list, num, rec, str, text } from '../json-values.js';

/** A string literal of the QuickBooks query language. */
export function qboLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A QuickBooks Invoice as the tools return it. */
export function invoice(value: unknown): Record<string, unknown> {
  const i = rec(value);
  return {
    id: text(i['Id']),
    doc_number: str(i['DocNumber']),
    customer_id: text(rec(i['CustomerRef'])['value']),
    customer_name: str(rec(i['CustomerRef'])['name']),
    txn_date: text(i['TxnDate']),
    due_date: str(i['DueDate']),
    total: num(i['TotalAmt']),
    balance: num(i['Balance']),
    currency: str(rec(i['CurrencyRef'])['value']),
    bill_email: str(rec(i['BillEmail'])['Address']),
    lines: list(i['Line'])
      .map(rec)
      .filter((l) => l['DetailType'] === 'SalesItemLineDetail')
      .map((l) => {
        const detail = rec(l['SalesItemLineDetail']);
        return {
          description: str(l['Description']),
          amount: num(l['Amount']),
          item: str(rec(detail['ItemRef'])['name']),
          quantity: num(detail['Qty']),
        };
      }),
  };
}

/** A QuickBooks Customer as the tools return it. */
export function customer(value: unknown): Record<string, unknown> {
  const c = rec(value);
  return {
    id: text(c['Id']),
    display_name: text(c['DisplayName']),
    company_name: str(c['CompanyName']),
    email: str(rec(c['PrimaryEmailAddr'])['Address']),
    phone: str(rec(c['PrimaryPhone'])['FreeFormNumber']),
    balance: num(c['Balance']),
    active: bool(c['Active']),
  };
}

/** The data rows of a QuickBooks report, each with the account section it sits in. */
export function ledgerEntries(report: unknown): Record<string, unknown>[] {
  const columns = list(rec(rec(report)['Columns'])['Column']).map((c) => text(rec(c)['ColType']));
  const entries: Record<string, unknown>[] = [];
  const walk = (rows: unknown, account: string) => {
    for (const row of list(rec(rows)['Row'])) {
      const r = rec(row);
      if (isRecord(r['Rows'])) {
        const header = list(rec(r['Header'])['ColData']);
        walk(r['Rows'], text(rec(header[0])['value']) || account);
        continue;
      }
      if (r['type'] !== 'Data' && !Array.isArray(r['ColData'])) continue;
      const cells = new Map<string, string>();
      list(r['ColData']).forEach((cell, index) =>
        cells.set(columns[index] ?? '', text(rec(cell)['value'])),
      );
      const cell = (key: string) => (cells.get(key) ? (cells.get(key) ?? null) : null);
      entries.push({
        account,
        date: cells.get('tx_date') ?? '',
        transaction_type: cells.get('txn_type') ?? '',
        number: cell('doc_num'),
        name: cell('name'),
        memo: cell('memo'),
        split_account: cell('split_acc'),
        amount: num(cells.get('subt_nat_amount')),
        balance: num(cells.get('rbal_nat_amount')),
      });
    }
  };
  walk(rec(report)['Rows'], '');
  return entries;
}

/** `Fault.Error[]` (or the lowercase `fault.error[]` of a 401), or an OAuth error. */
export function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  const b = rec(body);
  const fault = rec(b['Fault'] ?? b['fault']);
  const parts = list(fault['Error'] ?? fault['error']).map((e) => {
    const r = rec(e);
    const message = str(r['Message']) ?? str(r['message']) ?? '';
    const detail = str(r['Detail']) ?? str(r['detail']) ?? '';
    const code = str(r['code']);
    const textOf = detail && detail !== message ? `${message}: ${detail}` : message || detail;
    return code === null ? textOf : `${textOf} (code ${code})`;
  });
  if (parts.length > 0) return parts.join('; ');
  return str(b['error_description']) ?? str(b['error']) ?? undefined;
}
