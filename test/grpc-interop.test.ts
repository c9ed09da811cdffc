import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Code, ConnectError } from '@connectrpc/connect';
import { IdentityService } from '@fortress/proto/identity/v1/identity_pb';
import { createGrpcServiceClient } from '@fortress/kit/grpc-client';
import { apiTelemetry } from '@fortress/kit/telemetry';
import { loadTls } from '@fortress/kit/tls';
import { REPO_ROOT } from '@fortress/harness/stack/paths';
import { useStack, type TestStack } from './support/stack.js';

interface AuthenticateReply {
  authenticated: boolean;
  principal?: { orgId: string; roles: string[]; patKeyId: string; tier: string };
  failure: string;
}
type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => void;
type IdentityClient = grpc.Client & { Authenticate: Unary<{ apiKey: string }, AuthenticateReply> };

/** A stock @grpc/grpc-js client of IdentityService built from our .proto files, nothing of ours. */
function identityClient(address: string, creds: grpc.ChannelCredentials): IdentityClient {
  const definition = protoLoader.loadSync('fortress/identity/v1/identity.proto', {
    includeDirs: [join(REPO_ROOT, 'proto')],
    enums: String,
    defaults: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    fortress: {
      identity: {
        v1: {
          IdentityService: new (
            a: string,
            c: grpc.ChannelCredentials,
            o: grpc.ChannelOptions,
          ) => IdentityClient;
        };
      };
    };
  };
  // The certificate names localhost; TLS servername must not be an IP literal (RFC 6066).
  return new loaded.fortress.identity.v1.IdentityService(address, creds, {
    'grpc.ssl_target_name_override': 'localhost',
  });
}

const call = <Res>(fn: (cb: (err: grpc.ServiceError | null, res?: Res) => void) => void) =>
  new Promise<Res>((resolve, reject) =>
    fn((err, res) => (err ? reject(err) : resolve(res as Res))),
  );

describe('standard gRPC interoperability', () => {
  let stack: TestStack;
  let address: string;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    address = `127.0.0.1:${stack.services.identity.ports.grpcPort}`;
  });

  it('serves a @grpc/grpc-js client that presents the edge certificate', async () => {
    const org = await stack.seed();
    const tls = loadTls(stack.tlsDir, 'edge');
    const client = identityClient(address, grpc.credentials.createSsl(tls.ca, tls.key, tls.cert));
    try {
      const reply = await call<AuthenticateReply>((cb) =>
        client.Authenticate({ apiKey: org.orgKey }, cb),
      );
      assert.equal(reply.authenticated, true);
      assert.equal(reply.principal?.orgId, org.orgId);
      assert.equal(reply.principal?.tier, 'TIER_SOHO');
      assert.deepEqual(reply.principal?.roles, ['developer']);
      assert.equal(reply.principal?.patKeyId, org.patKeyId);
    } finally {
      client.close();
    }
  });

  it('answers PERMISSION_DENIED to a valid certificate of a service that may not call it', async () => {
    const tls = loadTls(stack.tlsDir, 'audit');
    const client = identityClient(address, grpc.credentials.createSsl(tls.ca, tls.key, tls.cert));
    try {
      await assert.rejects(
        call((cb) => client.Authenticate({ apiKey: 'fk_live_x' }, cb)),
        (err: grpc.ServiceError) => err.code === grpc.status.PERMISSION_DENIED,
      );
    } finally {
      client.close();
    }
  });

  it('refuses a client without a certificate at the TLS handshake', async () => {
    const tls = loadTls(stack.tlsDir, 'edge');
    const client = identityClient(address, grpc.credentials.createSsl(tls.ca));
    try {
      await assert.rejects(
        call((cb) => client.Authenticate({ apiKey: 'fk_live_x' }, cb)),
        (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE,
      );
    } finally {
      client.close();
    }
  });

  it('lets the edge’s grpc-js client talk only to the service it expects (SPIFFE id)', async () => {
    const org = await stack.seed();
    const options = {
      baseUrl: stack.urls['identity'] ?? '',
      tls: loadTls(stack.tlsDir, 'edge'),
      telemetry: apiTelemetry('test'),
      defaultTimeoutMs: 3000,
    };
    const right = createGrpcServiceClient(IdentityService, {
      ...options,
      expectedService: 'identity',
    });
    const reply = await right.authenticate({ apiKey: org.orgKey });
    assert.equal(reply.principal?.orgId, org.orgId);
    const impostor = createGrpcServiceClient(IdentityService, {
      ...options,
      expectedService: 'vault',
    });
    await assert.rejects(impostor.authenticate({ apiKey: org.orgKey }), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Unavailable);
      return true;
    });
  });
});
