import assert from 'node:assert/strict';
import { renderInvoicePdf } from '../../../src/adapters/pdf/invoice-pdf.js';
import { cycleAt, parseDay } from '../../../src/domain/cycle.js';
import { buildInvoice } from '../../../src/domain/invoice.js';
import { pricePlan } from '../../../src/domain/price-plan.js';
import { ledger, users } from '../../support/ledger.js';
import { pdfTextRuns } from '../../support/pdf-text.js';

const invoice = buildInvoice({
  orgId: 'org_seed',
  plan: pricePlan('bank', undefined),
  cycle: cycleAt(parseDay('2026-01-15') ?? 0, 0),
  events: ledger()
    .grant('2026-01-15T09:00:00Z', ['mcp', 'pat'], users('u_bundle', 60))
    .grant('2026-01-25T10:00:00Z', ['mcp'], users('u_mcp', 5))
    .grant('2026-02-01T08:00:00Z', ['pat'], users('u_pat', 3)).events,
});

describe('invoice PDF', () => {
  it('is a PDF whose text holds the total, each event and each user', async () => {
    const pdf = await renderInvoicePdf(invoice);
    assert.equal(Buffer.from(pdf.subarray(0, 5)).toString('latin1'), '%PDF-');
    assert.match(Buffer.from(pdf.subarray(-8)).toString('latin1'), /%%EOF/);
    const text = pdfTextRuns(pdf);
    assert.ok(text.includes('Total: $503.71'), text.slice(-3).join(' | '));
    assert.ok(text.includes('Billing cycle: 2026-01-15 to 2026-02-14 (31 days)'));
    assert.ok(text.includes('Added 2026-01-25 · MCP Fortress: $16.94'));
    assert.ok(text.includes('5 users x $5.00/user/mo x 21/31 days (2026-01-25 to 2026-02-14)'));
    assert.ok(text.includes('    u_mcp_5: $3.38'));
    assert.ok(text.includes('    u_pat_1: $2.26'));
    assert.ok(text.includes('Seats: 68 (60 bundle, 5 MCP only, 3 PAT only), 0 overage'));
  });

  it('renders the same invoice to the same bytes', async () => {
    assert.deepEqual(await renderInvoicePdf(invoice), await renderInvoicePdf(invoice));
  });
});
