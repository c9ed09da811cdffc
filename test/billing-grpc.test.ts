import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loadTls } from '@fortress/kit/tls';
import { REPO_ROOT } from '@fortress/harness/stack/paths';
import { useStack, type TestStack } from './support/stack.js';

type Unary = (req: object, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => void;
type BillingClient = grpc.Client &
  Record<'SetAccount' | 'RecordSeatChange' | 'PreviewInvoice' | 'GetInvoicePdf', Unary>;

/** A stock @grpc/grpc-js client of BillingService built from our .proto files, nothing of ours. */
function billingClient(address: string, as: string, tlsDir: string): BillingClient {
  const definition = protoLoader.loadSync('fortress/billing/v1/billing.proto', {
    includeDirs: [join(REPO_ROOT, 'proto')],
    enums: String,
    longs: String,
    defaults: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    fortress: {
      billing: {
        v1: {
          BillingService: new (
            a: string,
            c: grpc.ChannelCredentials,
            o: grpc.ChannelOptions,
          ) => BillingClient;
        };
      };
    };
  };
  const tls = loadTls(tlsDir, as);
  return new loaded.fortress.billing.v1.BillingService(
    address,
    grpc.credentials.createSsl(tls.ca, tls.key, tls.cert),
    // The certificate names localhost; TLS servername must not be an IP literal (RFC 6066).
    { 'grpc.ssl_target_name_override': 'localhost' },
  );
}

const call = <Res>(client: BillingClient, method: keyof BillingClient, req: object) =>
  new Promise<Res>((resolve, reject) =>
    (client[method] as Unary).call(client, req, (err, res) =>
      err ? reject(err) : resolve(res as Res),
    ),
  );

const at = (iso: string) => ({ seconds: String(Date.parse(iso) / 1000), nanos: 0 });

interface InvoiceReply {
  invoice: { totalCents: string; lines: Array<{ kind: string; amountCents: string }> };
}

describe('billing over standard gRPC', () => {
  let stack: TestStack;
  let address: string;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    address = `127.0.0.1:${stack.services.billing.ports.grpcPort}`;
  });

  it("bills the seeds' example to a @grpc/grpc-js client with the operator certificate", async () => {
    const client = billingClient(address, 'operator', stack.tlsDir);
    const orgId = `org_${randomBytes(6).toString('hex')}`;
    try {
      await call(client, 'SetAccount', { orgId, tier: 'TIER_BANK', anchorDate: '2026-01-15' });
      const seat = (userId: string, product: string, iso: string) =>
        call(client, 'RecordSeatChange', {
          orgId,
          userId,
          product,
          change: 'SEAT_CHANGE_GRANTED',
          effectiveAt: at(iso),
        });
      for (let i = 1; i <= 60; i++)
        for (const p of ['PRODUCT_MCP', 'PRODUCT_PAT'])
          await seat(`usr_b${i}`, p, '2026-01-15T09:00:00Z');
      for (let i = 1; i <= 5; i++) await seat(`usr_m${i}`, 'PRODUCT_MCP', '2026-01-25T09:00:00Z');
      for (let i = 1; i <= 3; i++) await seat(`usr_p${i}`, 'PRODUCT_PAT', '2026-02-01T09:00:00Z');
      const first = await call<InvoiceReply>(client, 'PreviewInvoice', {
        orgId,
        cycleStart: '2026-01-15',
      });
      assert.equal(first.invoice.totalCents, '50371');
      assert.deepEqual(
        first.invoice.lines.map((l) => [l.kind, l.amountCents]),
        [
          ['LINE_KIND_CYCLE', '48000'],
          ['LINE_KIND_ADDITION', '1694'],
          ['LINE_KIND_ADDITION', '677'],
        ],
      );
      const next = await call<InvoiceReply>(client, 'PreviewInvoice', {
        orgId,
        cycleStart: '2026-02-15',
      });
      assert.equal(next.invoice.totalCents, '52000');
      await assert.rejects(
        call(client, 'RecordSeatChange', {
          orgId,
          userId: 'usr_x',
          product: 'PRODUCT_ADMIN',
          change: 'SEAT_CHANGE_GRANTED',
          effectiveAt: at('2026-01-20T00:00:00Z'),
        }),
        (err: grpc.ServiceError) =>
          err.code === grpc.status.INVALID_ARGUMENT &&
          err.metadata.get('fortress-field')[0] === 'product',
      );
    } finally {
      client.close();
    }
  });

  it('answers PERMISSION_DENIED to a service certificate that may not call billing', async () => {
    const client = billingClient(address, 'audit', stack.tlsDir);
    try {
      await assert.rejects(
        call(client, 'PreviewInvoice', { orgId: 'org_x' }),
        (err: grpc.ServiceError) => err.code === grpc.status.PERMISSION_DENIED,
      );
    } finally {
      client.close();
    }
  });
});
