import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The PEM material a service presents and trusts. */
export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** Reads `ca.pem`, `<name>.pem` and `<name>-key.pem` from a directory made by the local stack. */
export function loadTls(dir: string, name: string): TlsMaterial {
  return {
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, `${name}.pem`)),
    key: readFileSync(join(dir, `${name}-key.pem`)),
  };
}

/** The SPIFFE id of a Fortress service, as carried in its certificate's URI SAN. */
export function spiffeId(service: string): string {
  return `spiffe://fortress/${service}`;
}
