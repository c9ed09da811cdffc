import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  PostureStatus,
  PostureService,
  CheckResponseSchema,
} from '@fortress/proto/posture/v1/posture_pb';
import { ensureCerts } from '@fortress/harness/certs/certs';
import { createLogger } from '../src/log.js';
import { peerIdKey } from '../src/rpc-context.js';
import { createServiceClient } from '../src/rpc-client.js';
import { startRpcServer, type RpcServer } from '../src/rpc-server.js';
import { apiTelemetry } from '../src/telemetry.js';
import { loadTls, spiffeId } from '../src/tls.js';

/**
 * The gRPC server's caller identity: the SPIFFE id of the client certificate reaches handlers,
 * callers outside the allowed peers are refused, and the certificate is parsed once per
 * connection, not once per call.
 */
describe('rpc server: the caller is the peer certificate', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'fortress-rpc-server-'));
  let server: RpcServer;
  const seenPeers: string[] = [];
  const telemetry = apiTelemetry('test');

  before(async () => {
    await ensureCerts({ dir, services: ['posture', 'edge', 'billing'] });
    server = await startRpcServer({
      service: 'posture',
      host: '127.0.0.1',
      port: 0,
      tls: loadTls(dir, 'posture'),
      allowedPeers: [spiffeId('edge')],
      logger: createLogger({ service: 'posture', level: 'silent' }),
      telemetry,
      routes: (router) =>
        router.service(PostureService, {
          check(_req, ctx) {
            seenPeers.push(ctx.values.get(peerIdKey));
            return create(CheckResponseSchema, { status: PostureStatus.NOT_REQUIRED });
          },
        }),
    });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const clientAs = (name: string) =>
    createServiceClient(PostureService, {
      baseUrl: `https://127.0.0.1:${server.port}`,
      tls: loadTls(dir, name),
      expectedService: 'posture',
      telemetry,
      defaultTimeoutMs: 5000,
    });

  it('hands the caller’s SPIFFE id to handlers, parsing its certificate once per connection', async () => {
    // Read off the prototype to be put back as it was (not called unbound).
    const original = Reflect.get(TLSSocket.prototype, 'getPeerCertificate') as (
      this: TLSSocket,
      detailed: true,
    ) => ReturnType<TLSSocket['getPeerCertificate']>;
    let parsed = 0;
    TLSSocket.prototype.getPeerCertificate = function (this: TLSSocket, ...args: [boolean?]) {
      parsed++;
      return original.apply(this, args as [true]);
    } as TLSSocket['getPeerCertificate'];
    try {
      const edge = clientAs('edge');
      for (let i = 0; i < 10; i++) {
        const r = await edge.check({ principal: { orgId: 'org_a' } });
        assert.equal(r.status, PostureStatus.NOT_REQUIRED);
      }
    } finally {
      TLSSocket.prototype.getPeerCertificate = original as TLSSocket['getPeerCertificate'];
    }
    assert.deepEqual(seenPeers, Array(10).fill(spiffeId('edge')));
    // The client checks the server's certificate too; the server parses the client's once.
    assert.ok(parsed <= 2, `the certificates were parsed ${parsed} times for 10 calls`);
  });

  it('refuses a caller whose certificate names another service', async () => {
    await assert.rejects(clientAs('billing').check({ principal: { orgId: 'org_a' } }), (err) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.PermissionDenied);
      return true;
    });
    assert.equal(seenPeers.length, 10, 'the handler never ran for the refused caller');
  });
});
