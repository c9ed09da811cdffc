import { Redis } from 'ioredis';

/** Every key and value Redis holds, as text (for scans for a secret that must not be there). */
export async function redisText(url: string): Promise<string> {
  const redis = new Redis(url);
  try {
    const out: string[] = [];
    for (const key of await redis.keys('*')) {
      const type = await redis.type(key);
      out.push(key);
      if (type === 'string') out.push((await redis.get(key)) ?? '');
      if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(key)));
      if (type === 'list') out.push(...(await redis.lrange(key, 0, -1)));
      if (type === 'zset') out.push(...(await redis.zrange(key, '0', '-1')));
      if (type === 'set') out.push(...(await redis.smembers(key)));
      if (type === 'stream') out.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
    return out.join('\n');
  } finally {
    redis.disconnect();
  }
}
