import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { spiffeIdFor } from '../src/certs/cert-paths.js';
import { loadTls as loadServiceTls, type TlsMaterial as ServiceTls } from '@fortress/kit/tls';
import { ensureCerts, type CertSet } from '../src/certs/certs.js';
import { issueServiceCert } from '../src/certs/issue-certs.js';
import { spiffeIdOf } from '@fortress/kit/spiffe-id';

interface HandshakeResult {
  peerId?: string | undefined;
  serverError?: string;
  clientError?: string;
  received: string;
}

/** Runs one mTLS handshake on loopback: the server requires and verifies a client certificate. */
async function handshake(
  server: ServiceTls,
  client: { ca: Buffer; cert?: Buffer; key?: Buffer },
): Promise<HandshakeResult> {
  const result: HandshakeResult = { received: '' };
  const tlsServer = createServer({ ...server, requestCert: true, rejectUnauthorized: true });
  const serverDone = new Promise<void>((resolve) => {
    tlsServer.once('secureConnection', (socket: TLSSocket) => {
      result.peerId = spiffeIdOf(socket.getPeerCertificate());
      socket.end('welcome');
      resolve();
    });
    tlsServer.once('tlsClientError', (error, socket) => {
      // Node verifies after the handshake and then destroys the socket: the reason is on the socket
      result.serverError = `${error.message} (${String(socket.authorizationError ?? 'no authorization error')})`;
      resolve();
    });
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const { port } = tlsServer.address() as { port: number };
  const clientDone = new Promise<void>((resolve) => {
    // no servername: the client then checks the server certificate's IP SAN 127.0.0.1
    const socket = connect({ host: '127.0.0.1', port, ...client });
    socket.on('data', (chunk: Buffer) => (result.received += chunk.toString('utf8')));
    socket.on('error', (error: Error) => {
      result.clientError = error.message;
    });
    socket.on('close', () => resolve());
  });
  await Promise.all([serverDone, clientDone]);
  await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  return result;
}

const fingerprint = (file: string): string =>
  new X509Certificate(readFileSync(file)).fingerprint256;

describe('ensureCerts', () => {
  let root: string;
  let dir: string;
  let otherDir: string;
  let certs: CertSet;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'fortress-certs-'));
    dir = join(root, 'tls');
    otherDir = join(root, 'other-tls');
    certs = await ensureCerts({ dir, services: ['edge', 'vault'] });
    await ensureCerts({ dir: otherDir, services: ['edge'] });
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('issues a CA and service leaves whose chain verifies', () => {
    assert.deepEqual(certs.issued, ['ca', 'edge', 'vault']);
    const ca = new X509Certificate(readFileSync(certs.caFile));
    const leaf = new X509Certificate(readFileSync(certs.services['edge']!.certFile));
    assert.equal(ca.ca, true);
    assert.equal(ca.verify(ca.publicKey), true);
    assert.ok(ca.validToDate.getTime() - Date.now() > 9 * 365 * 24 * 3600 * 1000);
    assert.equal(leaf.ca, false);
    assert.equal(leaf.checkIssued(ca), true);
    assert.equal(leaf.verify(ca.publicKey), true);
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.equal(leaf.checkHost('localhost'), 'localhost');
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(leaf.checkIP('::1'), '::1');
    assert.equal(spiffeIdOf(leaf), 'spiffe://fortress/edge');
    assert.equal(certs.services['edge']!.spiffeId, 'spiffe://fortress/edge');
  });

  it('keeps keys private: dir 0700, keys 0600', () => {
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const file of [
      certs.caKeyFile,
      certs.services['edge']!.keyFile,
      certs.services['vault']!.keyFile,
    ]) {
      assert.equal(statSync(file).mode & 0o777, 0o600, file);
      assert.match(readFileSync(file, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    }
  });

  it('lets a server read the client spiffe id in an mTLS handshake', async () => {
    const result = await handshake(loadServiceTls(dir, 'vault'), loadServiceTls(dir, 'edge'));
    assert.equal(result.peerId, 'spiffe://fortress/edge');
    assert.equal(result.received, 'welcome');
    assert.equal(result.serverError, undefined);
  });

  it('rejects a client certificate from another CA', async () => {
    const stranger = loadServiceTls(otherDir, 'edge');
    const result = await handshake(loadServiceTls(dir, 'vault'), {
      ca: loadServiceTls(dir, 'edge').ca,
      cert: stranger.cert,
      key: stranger.key,
    });
    assert.equal(result.peerId, undefined);
    assert.equal(result.received, '');
    assert.match(result.serverError ?? '', /\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
  });

  it('rejects a client without a certificate', async () => {
    const result = await handshake(loadServiceTls(dir, 'vault'), {
      ca: loadServiceTls(dir, 'edge').ca,
    });
    assert.equal(result.peerId, undefined);
    assert.equal(result.received, '');
    assert.match(result.serverError ?? '', /peer did not return a certificate/);
  });

  it('reuses valid files and issues only missing services', async () => {
    const before = [
      certs.caFile,
      certs.services['edge']!.certFile,
      certs.services['vault']!.certFile,
    ].map(fingerprint);
    const again = await ensureCerts({ dir, services: ['edge', 'vault', 'audit'] });
    assert.deepEqual(again.issued, ['audit']);
    const after = [
      again.caFile,
      again.services['edge']!.certFile,
      again.services['vault']!.certFile,
    ].map(fingerprint);
    assert.deepEqual(after, before);
    assert.equal(
      new X509Certificate(readFileSync(again.services['audit']!.certFile)).checkIssued(
        new X509Certificate(readFileSync(again.caFile)),
      ),
      true,
    );
  });

  it('replaces a leaf expiring within 30 days or signed by another CA', async () => {
    const ca = {
      certPem: readFileSync(certs.caFile, 'utf8'),
      keyPem: readFileSync(certs.caKeyFile, 'utf8'),
    };
    const expiring = await issueServiceCert(ca, 'vault', { validityDays: 10 });
    await writeFile(certs.services['vault']!.certFile, expiring.certPem);
    await writeFile(certs.services['vault']!.keyFile, expiring.keyPem);
    await copyFile(join(otherDir, 'edge.pem'), certs.services['edge']!.certFile);
    await copyFile(join(otherDir, 'edge-key.pem'), certs.services['edge']!.keyFile);
    const again = await ensureCerts({ dir, services: ['edge', 'vault'] });
    assert.deepEqual(again.issued, ['edge', 'vault']);
    const vault = new X509Certificate(readFileSync(again.services['vault']!.certFile));
    assert.ok(vault.validToDate.getTime() - Date.now() > 300 * 24 * 3600 * 1000);
    assert.equal(
      new X509Certificate(readFileSync(again.services['edge']!.certFile)).checkIssued(
        new X509Certificate(readFileSync(again.caFile)),
      ),
      true,
    );
  });

  it('replaces a leaf whose key does not match its certificate', async () => {
    await copyFile(certs.services['vault']!.keyFile, certs.services['edge']!.keyFile);
    assert.deepEqual((await ensureCerts({ dir, services: ['edge', 'vault'] })).issued, ['edge']);
  });

  it('starts over with a new CA when the CA file is corrupt', async () => {
    const oldCa = fingerprint(certs.caFile);
    await writeFile(certs.caFile, 'not a certificate');
    const again = await ensureCerts({ dir, services: ['edge'] });
    assert.deepEqual(again.issued, ['ca', 'edge']);
    assert.notEqual(fingerprint(again.caFile), oldCa);
  });

  it('lets concurrent calls on a fresh dir agree on one CA', async () => {
    const fresh = join(root, 'concurrent');
    const [a, b] = await Promise.all([
      ensureCerts({ dir: fresh, services: ['edge'] }),
      ensureCerts({ dir: fresh, services: ['edge'] }),
    ]);
    assert.deepEqual([...a.issued, ...b.issued].sort(), ['ca', 'edge']);
  });

  it('takes over a lock left by a process that died', async () => {
    const dead = spawnSync('true').pid;
    await writeFile(join(dir, '.lock'), String(dead));
    const started = Date.now();
    await ensureCerts({ dir, services: ['edge'] });
    assert.ok(Date.now() - started < 5_000);
    assert.equal(existsSync(join(dir, '.lock')), false);
  });

  it('refuses service names unfit for a file name or SPIFFE path', async () => {
    for (const name of ['../escape', 'Edge', '', 'a/b']) {
      await assert.rejects(ensureCerts({ dir, services: [name] }), /invalid service name/, name);
    }
  });
});

describe('spiffeIdOf', () => {
  const cases: Array<{ name: string; san: string | undefined; expected: string | undefined }> = [
    {
      name: 'Node format with other SANs',
      san: 'URI:spiffe://fortress/edge, DNS:localhost, IP Address:127.0.0.1',
      expected: 'spiffe://fortress/edge',
    },
    {
      name: 'spiffe id not first',
      san: 'DNS:localhost, URI:https://example.com/x, URI:spiffe://fortress/vault',
      expected: 'spiffe://fortress/vault',
    },
    { name: 'no SAN at all', san: undefined, expected: undefined },
    { name: 'no URI SAN', san: 'DNS:localhost, IP Address:127.0.0.1', expected: undefined },
    {
      name: 'two spiffe ids are ambiguous',
      san: 'URI:spiffe://fortress/edge, URI:spiffe://fortress/vault',
      expected: undefined,
    },
    {
      name: 'spiffe id hidden in a quoted value',
      san: 'URI:"https://x/a\\u002c URI:spiffe://fortress/edge"',
      expected: undefined,
    },
    {
      name: 'quoted spiffe id',
      san: 'URI:"spiffe://fortress/edge"',
      expected: 'spiffe://fortress/edge',
    },
    { name: 'spiffe id without a path', san: 'URI:spiffe://fortress', expected: undefined },
    { name: 'malformed SAN string', san: 'garbage without a type', expected: undefined },
  ];
  for (const { name, san, expected } of cases) {
    it(`returns ${String(expected)} for ${name}`, () => {
      assert.equal(
        spiffeIdOf(san === undefined ? ({} as never) : ({ subjectaltname: san } as never)),
        expected,
      );
    });
  }

  it('builds the id of a service', () => {
    assert.equal(spiffeIdFor('policy'), 'spiffe://fortress/policy');
  });
});
