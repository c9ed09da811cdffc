import { isIPv4, isIPv6 } from 'node:net';

/** Why an address may not be reached from inside (webhooks, connectors); undefined for a public unicast address. */
export type RefusedRange =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'shared'
  | 'multicast'
  | 'reserved'
  | 'documentation'
  | 'not_an_ip';

type Range = readonly [prefix: readonly number[], bits: number, why: RefusedRange];

/** IPv4 ranges no webhook may reach (IANA special-purpose registry, RFC 6890 and successors). */
const V4: readonly Range[] = [
  [[0], 8, 'unspecified'], // "this network"; 0.0.0.0 reaches the host itself
  [[10], 8, 'private'],
  [[100, 64], 10, 'shared'], // CGNAT, RFC 6598
  [[127], 8, 'loopback'],
  [[169, 254], 16, 'link_local'], // includes cloud metadata at 169.254.169.254
  [[172, 16], 12, 'private'],
  [[192, 0, 0], 24, 'reserved'], // IETF protocol assignments
  [[192, 0, 2], 24, 'documentation'],
  [[192, 88, 99], 24, 'reserved'], // deprecated 6to4 relay anycast
  [[192, 168], 16, 'private'],
  [[198, 18], 15, 'reserved'], // benchmarking
  [[198, 51, 100], 24, 'documentation'],
  [[203, 0, 113], 24, 'documentation'],
  [[224], 4, 'multicast'],
  [[240], 4, 'reserved'], // includes 255.255.255.255
];

/** IPv6 ranges refused outright (the ones that embed an IPv4 address are handled apart). */
const V6: readonly Range[] = [
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'reserved'], // discard-only
  [[0x20, 0x01, 0x00, 0x00], 32, 'reserved'], // Teredo: tunnels to an obfuscated IPv4
  [[0x20, 0x01, 0x00, 0x02, 0, 0], 48, 'reserved'], // benchmarking
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation'],
  [[0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48, 'private'], // local-use NAT64
  [[0xfc], 7, 'private'], // unique local
  [[0xfe, 0x80], 10, 'link_local'],
  [[0xfe, 0xc0], 10, 'private'], // deprecated site-local
  [[0xff], 8, 'multicast'],
];

function inRange(bytes: Uint8Array, [prefix, bits]: Range): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const take = Math.min(8, bits - i * 8);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

function v4Bytes(address: string): Uint8Array {
  return Uint8Array.from(address.split('.').map(Number));
}

/** The 16 bytes of an IPv6 address (already known to be valid), dotted-quad tails included. */
export function v6Bytes(address: string): Uint8Array {
  let text = address.toLowerCase().split('%')[0] ?? '';
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = v4Bytes(quad[1]);
    text = `${text.slice(0, -quad[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const words = [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

function refusedV4(bytes: Uint8Array): RefusedRange | undefined {
  return V4.find((r) => inRange(bytes, r))?.[2];
}

const zeros = (bytes: Uint8Array, from: number, to: number) =>
  bytes.subarray(from, to).every((b) => b === 0);

function refusedV6(bytes: Uint8Array): RefusedRange | undefined {
  if (zeros(bytes, 0, 16)) return 'unspecified';
  if (zeros(bytes, 0, 15) && bytes[15] === 1) return 'loopback';
  // Forms that carry an IPv4 address are judged by it: IPv4-mapped (::ffff:a.b.c.d),
  // IPv4-compatible (::a.b.c.d, deprecated), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AB:CD::).
  if (zeros(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff)
    return refusedV4(bytes.subarray(12));
  if (zeros(bytes, 0, 12)) return refusedV4(bytes.subarray(12)) ?? 'reserved';
  if (inRange(bytes, [[0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96, 'reserved']))
    return refusedV4(bytes.subarray(12));
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return refusedV4(bytes.subarray(2, 6));
  return V6.find((r) => inRange(bytes, r))?.[2];
}

/**
 * Why an IP address may not be a webhook target (private, loopback, link-local, shared,
 * multicast, unspecified, reserved, documentation; IPv4-mapped and other IPv4-embedding IPv6
 * forms by their IPv4 address), or undefined when it is a public unicast address.
 */
export function refusedRange(address: string): RefusedRange | undefined {
  if (isIPv4(address)) return refusedV4(v4Bytes(address));
  if (isIPv6(address)) return refusedV6(v6Bytes(address));
  return 'not_an_ip';
}

/** True for 127.0.0.0/8 and ::1 (and ::ffff:127.x): what development mode may reach over http. */
export function isLoopback(address: string): boolean {
  return refusedRange(address) === 'loopback';
}
