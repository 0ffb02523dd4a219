/**
 * Cleanups that must run on every way out of a build: normal end, error, Ctrl-C and
 * SIGTERM (CI cancelling a job). A kill -9 cannot be caught; what it leaves behind is
 * swept by the next run instead (stale GnuPG homes, staging directories).
 */
type Cleanup = () => Promise<void> | void;

const cleanups = new Set<Cleanup>();
let installed = false;
let interruptedBy: NodeJS.Signals | undefined;

export function onCleanup(fn: Cleanup): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

export async function runCleanups(): Promise<void> {
  const all = [...cleanups].reverse();
  cleanups.clear();
  for (const fn of all) {
    try {
      await fn();
    } catch {
      // A cleanup that fails must not stop the others.
    }
  }
}

export function interruptedSignal(): NodeJS.Signals | undefined {
  return interruptedBy;
}

/**
 * On SIGINT/SIGTERM/SIGHUP: run the cleanups, then `onInterrupt` (which reports and
 * closes the log), then exit 128+signal. A second signal exits at once.
 */
export function installSignalHandlers(onInterrupt: (signal: NodeJS.Signals) => Promise<void>): void {
  if (installed) return;
  installed = true;
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]) {
    process.on(sig, () => {
      if (interruptedBy) process.exit(128 + numbers[sig]);
      interruptedBy = sig;
      void (async () => {
        await runCleanups();
        await onInterrupt(sig).catch(() => undefined);
        process.exit(128 + numbers[sig]);
      })();
    });
  }
}
