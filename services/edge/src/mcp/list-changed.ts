import type { ServerResponse } from 'node:http';
import type { EventBus } from '@fortress/kit/event-bus';
import type { Logger } from '@fortress/kit/log';

/** The subject on which policy replicas announce a saved policy version. */
const POLICY_CHANGED = 'fortress.policy.changed';

const LIST_CHANGED = `event: message\ndata: ${JSON.stringify({
  jsonrpc: '2.0',
  method: 'notifications/tools/list_changed',
})}\n\n`;

/**
 * The 2025-era GET streams: each open stream of an org is told `tools/list_changed` whenever
 * that org's policy changes (roles, toggles, connectors, a kill), so clients list again. A
 * comment line keeps idle streams open through proxies.
 */
export function createListChangedHub(deps: { bus: EventBus; logger: Logger; keepAliveMs: number }) {
  const streams = new Map<string, Set<ServerResponse>>();
  deps.bus.subscribe(POLICY_CHANGED, (data) => {
    let orgId: string;
    try {
      orgId = (JSON.parse(Buffer.from(data).toString('utf8')) as { orgId: string }).orgId;
    } catch {
      return;
    }
    for (const res of streams.get(orgId) ?? []) res.write(LIST_CHANGED);
  });

  return {
    /** Opens a notification stream for one session of an org. */
    open(orgId: string, res: ServerResponse, headers: Record<string, string>): void {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        ...headers,
      });
      res.flushHeaders();
      const set = streams.get(orgId) ?? new Set<ServerResponse>();
      streams.set(orgId, set.add(res));
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), deps.keepAliveMs);
      keepAlive.unref();
      res.on('close', () => {
        clearInterval(keepAlive);
        set.delete(res);
        if (set.size === 0) streams.delete(orgId);
      });
    },

    /** Open streams (for tests and metrics). */
    count(): number {
      let n = 0;
      for (const set of streams.values()) n += set.size;
      return n;
    },

    /** Ends every stream (shutdown). */
    close(): void {
      for (const set of streams.values()) for (const res of set) res.end();
      streams.clear();
    },
  };
}

/** The GET-stream hub. */
export type ListChangedHub = ReturnType<typeof createListChangedHub>;
