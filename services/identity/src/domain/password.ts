import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { InvalidArgumentError } from '@fortress/kit/errors';

/** The shortest password an admin may set. */
export const MIN_PASSWORD_LENGTH = 12;
/** Bounds the work one request can ask for (scrypt reads all of it). */
export const MAX_PASSWORD_LENGTH = 1024;

/** scrypt cost for new hashes: N=2^14, r=8, p=1 (16 MiB, tens of ms) per OWASP's guidance. */
const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Stored parameters above these are refused rather than run (a tampered row must not DoS us). */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
const FORMAT = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

const derive = (password: string, salt: Buffer, length: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => {
    // maxmem must cover 128·N·r bytes plus headroom, or Node refuses the larger settings.
    const maxmem = 128 * (options.N ?? PARAMS.N) * (options.r ?? PARAMS.r) * 2;
    scrypt(password, salt, length, { ...options, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });

/**
 * Unicode passwords are compared after NFKC, so the same characters typed on two keyboards
 * (composed or decomposed) are the same password (NIST SP 800-63B §5.1.1.2).
 */
const normalise = (password: string) => password.normalize('NFKC');

/** Refuses a password that is too short or too long; counts characters, not UTF-16 units. */
export function requirePassword(field: string, password: string): string {
  const length = [...normalise(password)].length;
  if (length < MIN_PASSWORD_LENGTH)
    throw new InvalidArgumentError(
      field,
      `${field} must be at least ${MIN_PASSWORD_LENGTH} characters`,
    );
  if (length > MAX_PASSWORD_LENGTH)
    throw new InvalidArgumentError(
      field,
      `${field} must be at most ${MAX_PASSWORD_LENGTH} characters`,
    );
  return password;
}

/** Hashes a password with a fresh salt: `scrypt$N=16384,r=8,p=1$<salt b64>$<hash b64>`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(normalise(password), salt, HASH_BYTES, PARAMS);
  return `scrypt$N=${PARAMS.N},r=${PARAMS.r},p=${PARAMS.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * True when `password` matches `stored`. A stored value that is not a well-formed scrypt hash
 * within our bounds never matches. Comparison is constant-time.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const salt = Buffer.from(m[4] ?? '', 'base64');
  const expected = Buffer.from(m[5] ?? '', 'base64');
  const powerOfTwo = (N & (N - 1)) === 0;
  if (!powerOfTwo || N < 2 || N > MAX_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return false;
  if (salt.length < 8 || expected.length < 16) return false;
  const actual = await derive(normalise(password), salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}

/**
 * A hash of a random password nobody knows. Logins for an unknown email verify against one, so
 * they cost what a wrong password costs and cannot tell which emails exist.
 */
export function dummyPasswordHash(): Promise<string> {
  return hashPassword(randomBytes(32).toString('base64url'));
}
