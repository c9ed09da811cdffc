import { join } from 'node:path';

/** Trust domain of every Fortress workload identity. */
export const TRUST_DOMAIN = 'fortress';

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Throws unless `service` is a lowercase name usable in a file name and a SPIFFE path. */
export function assertServiceName(service: string): void {
  if (!SERVICE_NAME.test(service)) {
    throw new Error(`invalid service name "${service}": use lowercase letters, digits and dashes`);
  }
}

/** The workload identity of a service, `spiffe://fortress/<service>`. */
export function spiffeIdFor(service: string): string {
  assertServiceName(service);
  return `spiffe://${TRUST_DOMAIN}/${service}`;
}

/** File names of a certificate directory. */
export interface CertPaths {
  readonly caFile: string;
  readonly caKeyFile: string;
  certFile(service: string): string;
  keyFile(service: string): string;
}

/** The PEM file names under `dir`: ca.pem, ca-key.pem, <service>.pem, <service>-key.pem. */
export function certPaths(dir: string): CertPaths {
  return {
    caFile: join(dir, 'ca.pem'),
    caKeyFile: join(dir, 'ca-key.pem'),
    certFile: (service) => {
      assertServiceName(service);
      return join(dir, `${service}.pem`);
    },
    keyFile: (service) => {
      assertServiceName(service);
      return join(dir, `${service}-key.pem`);
    },
  };
}
