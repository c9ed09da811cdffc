import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { assertServiceName, certPaths, spiffeIdFor, type CertPaths } from './cert-paths.js';
import { withDirLock } from './dir-lock.js';
import { createCa, issueServiceCert, type PemPair } from './issue-certs.js';
import { spiffeIdOf } from '@fortress/kit/spiffe-id';

/** Options for {@link ensureCerts}. */
export interface EnsureCertsOptions {
  /** Directory for the PEM files; created with mode 0700. */
  readonly dir: string;
  /** Services that need a certificate (lowercase names; each becomes spiffe://fortress/<name>). */
  readonly services: readonly string[];
}

/** Files of one service's certificate. */
export interface ServiceCertFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly spiffeId: string;
}

/** What {@link ensureCerts} made sure of. */
export interface CertSet {
  readonly dir: string;
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly services: Readonly<Record<string, ServiceCertFiles>>;
  /** What this call (re)generated: `ca` and/or service names; empty when everything was reused. */
  readonly issued: readonly string[];
}

/** Certificates expiring sooner than this are replaced. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

function readPair(certFile: string, keyFile: string): PemPair | undefined {
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  return { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

/** True when the certificate parses, matches its key, is not near expiry and is signed by `issuer`. */
function isValid(
  pair: PemPair,
  issuer: X509Certificate | undefined,
  check: (cert: X509Certificate) => boolean,
): boolean {
  try {
    const cert = new X509Certificate(pair.certPem);
    const signer = issuer ?? cert;
    return (
      cert.checkPrivateKey(createPrivateKey(pair.keyPem)) &&
      cert.validToDate.getTime() - Date.now() > RENEW_BEFORE_MS &&
      cert.validFromDate.getTime() <= Date.now() &&
      cert.checkIssued(signer) &&
      cert.verify(signer.publicKey) &&
      check(cert)
    );
  } catch {
    return false;
  }
}

async function writeAtomically(file: string, content: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode });
  await chmod(temporary, mode);
  await rename(temporary, file);
}

async function writePair(certFile: string, keyFile: string, pair: PemPair): Promise<void> {
  // key first: a crash in between leaves a mismatched pair, which the next run detects and replaces
  await writeAtomically(keyFile, pair.keyPem, 0o600);
  await writeAtomically(certFile, pair.certPem, 0o644);
}

async function ensureCa(paths: CertPaths, issued: string[]): Promise<PemPair> {
  const existing = readPair(paths.caFile, paths.caKeyFile);
  if (existing !== undefined && isValid(existing, undefined, (cert) => cert.ca)) return existing;
  const ca = await createCa();
  await writePair(paths.caFile, paths.caKeyFile, ca);
  issued.push('ca');
  return ca;
}

/**
 * Makes sure `dir` holds a throwaway CA and a valid leaf certificate per service, reusing what is valid
 * (parses, matches its key, signed by the CA, more than 30 days left) and issuing the rest.
 */
export async function ensureCerts(options: EnsureCertsOptions): Promise<CertSet> {
  options.services.forEach(assertServiceName);
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  await chmod(options.dir, 0o700);
  const paths = certPaths(options.dir);
  return withDirLock(options.dir, async () => {
    const issued: string[] = [];
    const ca = await ensureCa(paths, issued);
    const caCert = new X509Certificate(ca.certPem);
    const services: Record<string, ServiceCertFiles> = {};
    for (const service of new Set(options.services)) {
      const certFile = paths.certFile(service);
      const keyFile = paths.keyFile(service);
      const spiffeId = spiffeIdFor(service);
      const existing = readPair(certFile, keyFile);
      const reusable =
        existing !== undefined &&
        isValid(existing, caCert, (cert) => spiffeIdOf(cert) === spiffeId);
      if (!reusable) {
        await writePair(certFile, keyFile, await issueServiceCert(ca, service));
        issued.push(service);
      }
      services[service] = { certFile, keyFile, spiffeId };
    }
    return { dir: options.dir, caFile: paths.caFile, caKeyFile: paths.caKeyFile, services, issued };
  });
}
