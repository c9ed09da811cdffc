import { createHash } from 'node:crypto';

/** Tool names clients accept everywhere (the strictest common rule among AI clients). */
export const FEDERATED_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const MAX = 64;
const HASH_HEX = 8;

/** Replaces every character a federated name may not contain with `_`. */
function sanitise(part: string): string {
  return part.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/** 8 hex characters naming the upstream tool; a different upstream name gives a different suffix. */
function suffix(upstreamName: string): string {
  return createHash('sha256').update(upstreamName, 'utf8').digest('hex').slice(0, HASH_HEX);
}

/**
 * The federated names of one connector's tools, in the order given:
 * `<connectorId>__<upstreamName>` with every character outside `[a-zA-Z0-9_-]` replaced by `_`.
 *
 * That plain name is kept when it fits in 64 characters and no other tool of the list maps to
 * it, or when the tool's name needed no replacement (upstream names are unique, so two
 * unchanged names never collide). Otherwise the name is cut to 55 characters and
 * `_<first 8 hex of sha256(upstreamName)>` appended. The result depends only on the set of
 * upstream names, never on their order: `docs.export` next to `docs_export` becomes
 * `c__docs_export_1a2b3c4d` while `docs_export` keeps `c__docs_export`.
 *
 * A name repeated by the upstream, or a hashed name that meets another name exactly (one in
 * four billion), is left out after its first occurrence and reported in `dropped`. Callers route
 * a federated name through this mapping, not by splitting on `__`: a long connector id can be
 * cut.
 */
export function federatedNames(
  connectorId: string,
  upstreamNames: readonly string[],
): { names: (string | undefined)[]; dropped: string[] } {
  const prefix = `${sanitise(connectorId)}__`;
  const plain = upstreamNames.map((name) => `${prefix}${sanitise(name)}`);
  const uses = new Map<string, number>();
  for (const name of plain) uses.set(name, (uses.get(name) ?? 0) + 1);

  const taken = new Set<string>();
  const dropped: string[] = [];
  const names = upstreamNames.map((upstreamName, i) => {
    const candidate = plain[i] ?? '';
    const unchanged = sanitise(upstreamName) === upstreamName && upstreamName !== '';
    const keep = candidate.length <= MAX && (unchanged || uses.get(candidate) === 1);
    const name = keep
      ? candidate
      : `${candidate.slice(0, MAX - HASH_HEX - 1)}_${suffix(upstreamName)}`;
    if (taken.has(name)) {
      dropped.push(upstreamName);
      return undefined;
    }
    taken.add(name);
    return name;
  });
  return { names, dropped };
}
