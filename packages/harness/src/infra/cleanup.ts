/** Something started by this process that must not outlive it. */
export interface Stoppable {
  readonly name: string;
  /** Graceful asynchronous stop, used on SIGINT/SIGTERM and by {@link stopAll}. */
  stop(): Promise<void>;
  /** Best-effort synchronous stop for the `exit` event, where no asynchronous work runs. */
  stopSync(): void;
}

const live = new Set<Stoppable>();
let hooksInstalled = false;
let stopping: Promise<void> | undefined;

/** Registers a resource for cleanup at process exit; returns a function that unregisters it. */
export function track(resource: Stoppable): () => void {
  installHooks();
  live.add(resource);
  return () => {
    live.delete(resource);
  };
}

/** Stops every tracked resource (servers last started are stopped first); errors are collected and rethrown together. */
export function stopAll(): Promise<void> {
  stopping ??= (async () => {
    const errors: unknown[] = [];
    for (const resource of [...live].reverse()) {
      live.delete(resource);
      try {
        await resource.stop();
      } catch (error: unknown) {
        errors.push(error);
      }
    }
    if (errors.length > 0)
      throw new AggregateError(errors, 'some infrastructure processes failed to stop');
  })().finally(() => {
    stopping = undefined;
  });
  return stopping;
}

function stopAllSync(): void {
  for (const resource of [...live].reverse()) {
    live.delete(resource);
    try {
      resource.stopSync();
    } catch {
      // the process is exiting: nothing useful can be done with the error any more
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping !== undefined) {
    // second Ctrl-C while stopping: stop synchronously and leave now
    stopAllSync();
    process.exit(130);
  }
  const guard = setTimeout(stopAllSync, 15_000);
  guard.unref();
  void stopAll()
    .catch(() => stopAllSync())
    .finally(() => {
      clearTimeout(guard);
      process.removeListener(signal, onSignal);
      // re-raise only when nobody else handles the signal, so the default (exit) still happens
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', stopAllSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
