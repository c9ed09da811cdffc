import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { QuotaClaim } from '../../domain/quota-plan.js';

/**
 * Reserve: all claims fit or none is taken. Per counter key K (a hash: settled, reserved) the
 * leases live in K:leases (zset of reservation id by expiry) and K:amounts (id → amount);
 * expired leases are released first. Uses Redis's clock, so replicas agree on expiry.
 * KEYS: the counters, then the reservation record. ARGV: reservation id, lease ms, the record
 * (JSON list of [key, kind, ttl] of the "later" claims, or "" for none), its ttl ms, then per
 * claim: limit, amount, settle ("now"|"later"), ttl ms. The record is written in the same
 * script, so a granted reservation can always be settled.
 * Returns {0, index} when claim `index` (1-based) does not fit, else {1}.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id, lease, record, recordTtl = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local n = #KEYS - 1
local function purge(k)
  local expired = redis.call('ZRANGEBYSCORE', k .. ':leases', '-inf', now)
  for _, r in ipairs(expired) do
    local a = tonumber(redis.call('HGET', k .. ':amounts', r) or '0')
    redis.call('HINCRBY', k, 'reserved', -a)
    redis.call('HDEL', k .. ':amounts', r)
    redis.call('ZREM', k .. ':leases', r)
  end
end
for i = 1, n do
  local k = KEYS[i]
  purge(k)
  local base = 4 + (i - 1) * 4
  local limit, amount = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2])
  local used = tonumber(redis.call('HGET', k, 'settled') or '0') + tonumber(redis.call('HGET', k, 'reserved') or '0')
  if used + amount > limit then return {0, i} end
end
for i = 1, n do
  local k = KEYS[i]
  local base = 4 + (i - 1) * 4
  local amount, mode, ttl = tonumber(ARGV[base + 2]), ARGV[base + 3], tonumber(ARGV[base + 4])
  if mode == 'now' then
    redis.call('HINCRBY', k, 'settled', amount)
  else
    redis.call('HINCRBY', k, 'reserved', amount)
    redis.call('HSET', k .. ':amounts', id, amount)
    redis.call('ZADD', k .. ':leases', now + lease, id)
    redis.call('PEXPIRE', k .. ':amounts', ttl)
    redis.call('PEXPIRE', k .. ':leases', ttl)
  end
  redis.call('PEXPIRE', k, ttl)
end
if record ~= '' then redis.call('SET', KEYS[#KEYS], record, 'PX', recordTtl) end
return {1}
`;

/**
 * Settle, atomically and once: reads and deletes the reservation record (KEYS[1]: JSON list of
 * [key, kind, ttl, alertAt, ruleId]); for each counter, releases the reservation if its lease
 * has not expired and adds the actual amount (by kind) to settled — a late settle still counts
 * what was really consumed. ARGV: reservation id, actual spend, actual tokens. Returns {0} for
 * an unknown id, else {1, ruleIds…} naming the counters whose settled amount crossed their
 * alert threshold with this settlement (so exactly one settlement raises each alert).
 */
const SETTLE = `
local record = redis.call('GET', KEYS[1])
if not record then return {0} end
redis.call('DEL', KEYS[1])
local id = ARGV[1]
local crossed = {1}
for _, entry in ipairs(cjson.decode(record)) do
  local k, kind, ttl, alertAt, ruleId = entry[1], entry[2], entry[3], entry[4], entry[5]
  local actual = tonumber(kind == 'spend' and ARGV[2] or ARGV[3])
  local a = redis.call('HGET', k .. ':amounts', id)
  if a then
    redis.call('HINCRBY', k, 'reserved', -tonumber(a))
    redis.call('HDEL', k .. ':amounts', id)
    redis.call('ZREM', k .. ':leases', id)
  end
  local after = redis.call('HINCRBY', k, 'settled', actual)
  if alertAt and alertAt > 0 and after >= alertAt and after - actual < alertAt then
    table.insert(crossed, ruleId)
  end
  if redis.call('PTTL', k) < 0 then redis.call('PEXPIRE', k, ttl) end
end
return crossed
`;

/** The outcome of a reservation. */
export type ReserveResult =
  { ok: true; reservationId: string; leaseExpiresAt: Date } | { ok: false; claim: QuotaClaim };

/** Options of the quota store. */
export interface QuotaStoreOptions {
  url: string;
  /** How long a reservation holds its amount before it is released as leaked. */
  leaseMs: number;
  /** Deadline of one Redis call. */
  timeoutMs: number;
}

/** How long a counter key lives after its window ends (so late settles still find it). */
const GRACE_MS = 60 * 60 * 1000;

/** The quota engine's store: atomic reserve / settle scripts in Redis, shared by every replica. */
export function createQuotaStore(options: QuotaStoreOptions) {
  const redis = new Redis(options.url, {
    lazyConnect: false,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    commandTimeout: options.timeoutMs,
  });
  redis.on('error', () => undefined); // surfaced per call; reconnects on its own
  redis.defineCommand('fortressReserve', { lua: RESERVE });
  redis.defineCommand('fortressSettle', { lua: SETTLE });
  type Scripted = Redis & {
    fortressReserve(n: number, ...args: Array<string | number>): Promise<[number, number?]>;
    fortressSettle(n: number, ...args: Array<string | number>): Promise<[number, ...string[]]>;
  };
  const r = redis as Scripted;
  const ttl = (c: QuotaClaim) => Math.max(1, c.windowEndMs - Date.now()) + GRACE_MS;

  return {
    /** Reserves every claim or none. Throws when Redis cannot answer (callers deny). */
    async reserve(claims: QuotaClaim[]): Promise<ReserveResult> {
      const id = randomUUID();
      const later = claims.filter((c) => c.settle === 'later');
      const record = later.length
        ? JSON.stringify(later.map((c) => [c.key, c.kind, ttl(c), c.alertAt ?? 0, c.ruleId]))
        : '';
      const args = claims.flatMap((c) => [c.limit, c.amount, c.settle, ttl(c)]);
      const [ok, index] = await r.fortressReserve(
        claims.length + 1,
        ...claims.map((c) => c.key),
        `q:{${orgOf(claims)}}:res:${id}`,
        id,
        options.leaseMs,
        record,
        options.leaseMs + GRACE_MS,
        ...args,
      );
      if (ok === 1)
        return {
          ok: true,
          reservationId: id,
          leaseExpiresAt: new Date(Date.now() + options.leaseMs),
        };
      return { ok: false, claim: claims[(index ?? 1) - 1] as QuotaClaim };
    },

    /**
     * Settles a reservation with the actual amounts; unknown or already settled ids do nothing.
     * Returns the rule ids of the counters this settlement pushed past their alert threshold.
     */
    async settle(
      orgId: string,
      reservationId: string,
      actual: { spend: number; tokens: number },
    ): Promise<{ settled: boolean; crossedAlert: string[] }> {
      const [settled, ...crossedAlert] = await r.fortressSettle(
        1,
        `q:{${orgId}}:res:${reservationId}`,
        reservationId,
        actual.spend,
        actual.tokens,
      );
      return { settled: settled === 1, crossedAlert };
    },

    /** Current settled and reserved amounts of a counter (tests, usage). */
    async read(key: string): Promise<{ settled: number; reserved: number }> {
      const h = await redis.hgetall(key);
      return { settled: Number(h['settled'] ?? 0), reserved: Number(h['reserved'] ?? 0) };
    },

    ready: async () => (await redis.ping()) === 'PONG',
    close: () => {
      redis.disconnect();
      return Promise.resolve();
    },
  };
}

/** The org of a set of claims (their keys carry it as a hash tag). */
function orgOf(claims: QuotaClaim[]): string {
  return /\{([^}]+)\}/.exec(claims[0]?.key ?? '')?.[1] ?? '';
}

/** The quota store. */
export type QuotaStore = ReturnType<typeof createQuotaStore>;
