import PDFDocument from 'pdfkit';
import { formatDay } from '../../domain/cycle.js';
import type { Invoice, InvoiceLine } from '../../domain/invoice.js';
import { formatUsd } from '../../domain/money.js';

const TIER_NAMES = { soho: 'SOHO', bank: 'Bank', zero_trust: 'Zero Trust' } as const;
const RATED_NAMES = { mcp: 'MCP Fortress', pat: 'PAT Fortress', bundle: 'Bundle (MCP + PAT)' };

/** What a line is, in words: "Added 2026-01-25 · PAT Fortress · overage". */
function describe(line: InvoiceLine): string {
  const what =
    line.kind === 'cycle'
      ? 'Full cycle'
      : line.kind === 'addition'
        ? `Added ${formatDay(line.from)}`
        : `Bundle credit from ${formatDay(line.from)}`;
  return [what, RATED_NAMES[line.rated], ...(line.overage ? ['overage'] : [])].join(' · ');
}

/**
 * Renders an invoice as a PDF: header, one block per line (the event, its users × rate ×
 * days / cycle days, its amount, then each user's share), seats and the total. The document's
 * dates are the cycle's, so the same invoice always renders to the same bytes.
 */
export function renderInvoicePdf(invoice: Invoice): Promise<Uint8Array> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: {
      Title: `Fortress invoice ${invoice.orgId} ${formatDay(invoice.cycle.start)}`,
      Author: 'Fortress',
      CreationDate: new Date(invoice.cycle.start * 86_400_000),
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Uint8Array>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    doc.on('error', reject);
  });

  const { cycle, seats, plan } = invoice;
  doc.font('Helvetica-Bold').fontSize(18).text('Fortress invoice');
  doc.font('Helvetica').fontSize(10);
  doc.text(`Organisation: ${invoice.orgId}`);
  doc.text(`Tier: ${TIER_NAMES[plan.tier]}`);
  doc.text(
    `Billing cycle: ${formatDay(cycle.start)} to ${formatDay(cycle.end)} (${cycle.days} days)`,
  );
  doc.text('Currency: USD');
  doc.moveDown();

  for (const line of invoice.lines) {
    doc.font('Helvetica-Bold').text(`${describe(line)}: ${formatUsd(line.amountCents)}`);
    doc
      .font('Helvetica')
      .text(
        `${line.users.length} users x ${formatUsd(line.rateCents)}/user/mo x ${line.days}/${cycle.days} days (${formatDay(line.from)} to ${formatDay(line.to)})`,
      );
    for (const u of line.users) doc.text(`    ${u.userId}: ${formatUsd(u.amountCents)}`);
    doc.moveDown(0.5);
  }

  doc.moveDown();
  doc.text(
    `Seats: ${seats.total} (${seats.bundle} bundle, ${seats.mcpOnly} MCP only, ${seats.patOnly} PAT only), ${seats.overage} overage`,
  );
  doc.text(
    `Pack: ${plan.packMin} to ${plan.packMax ?? 'no maximum'} users${invoice.belowPackMinimum ? ' (below the pack minimum)' : ''}`,
  );
  doc
    .font('Helvetica-Bold')
    .fontSize(14)
    .text(`Total: ${formatUsd(invoice.totalCents)}`);
  doc.end();
  return done;
}
