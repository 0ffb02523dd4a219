/**
 * Cleanups that must run on every way out of a build: normal end, error, Ctrl-C,
 * SIGTERM (CI cancelling a job), SIGHUP, SIGQUIT and a closed output pipe (EPIPE on
 * stdout or stderr, or SIGPIPE). A kill -9 cannot be caught; what it leaves behind is
 * swept at the start of the next command instead (stale GnuPG homes, scratch directories).
 */
type Cleanup = () => Promise<void> | void;

interface Registered {
  run: Cleanup;
  /** The same cleanup done synchronously, for a second signal that cannot wait for the first's. */
  urgent?: () => void;
  /** Set once a runCleanups took it: the interruption's and the normal end's may overlap. */
  started?: boolean;
}

const cleanups = new Set<Registered>();
let installed = false;
let interruptedBy: NodeJS.Signals | undefined;

/** Exit statuses as a shell reports a death by each signal (128 + its number). */
export const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGPIPE: 141, SIGTERM: 143 };
const HANDLED = Object.keys(SIGNAL_EXIT) as NodeJS.Signals[];

export function onCleanup(fn: Cleanup, urgent?: () => void): () => void {
  const entry: Registered = { run: fn, urgent };
  cleanups.add(entry);
  return () => cleanups.delete(entry);
}

export async function runCleanups(): Promise<void> {
  const all = [...cleanups].reverse();
  for (const entry of all) {
    if (entry.started) continue;
    entry.started = true;
    try {
      await entry.run();
    } catch {
      // A cleanup that fails must not stop the others.
    }
    cleanups.delete(entry);
  }
}

/** What is still registered, done at once: the secret-bearing cleanups must happen even if the process must end now. */
function runUrgentCleanups(): void {
  for (const entry of [...cleanups].reverse()) {
    try {
      entry.urgent?.();
    } catch {
      // As above.
    }
  }
  cleanups.clear();
}

export function interruptedSignal(): NodeJS.Signals | undefined {
  return interruptedBy;
}

let onInterruptHandler: (signal: NodeJS.Signals) => void = () => undefined;

/**
 * Ends the run as if by `signal`: the handler reports it (log and terminal) while the
 * log is still open, then the cleanups run, then exit 128+signal. A second interruption
 * while the first is being handled does the urgent cleanups synchronously and exits at once.
 */
export function interrupt(signal: NodeJS.Signals): void {
  const code = SIGNAL_EXIT[signal] ?? 130;
  if (interruptedBy) {
    runUrgentCleanups();
    process.exit(SIGNAL_EXIT[interruptedBy] ?? code);
  }
  interruptedBy = signal;
  try {
    onInterruptHandler(signal);
  } catch {
    // Reporting must not stand in the way of the cleanups.
  }
  void runCleanups().finally(() => process.exit(code));
}

export function installSignalHandlers(onInterrupt: (signal: NodeJS.Signals) => void): void {
  if (installed) return;
  installed = true;
  onInterruptHandler = onInterrupt;
  for (const sig of HANDLED) process.on(sig, () => interrupt(sig));
  // The reader of our output went away (`xcpbuild … | head -1`): a closed pipe, as a shell reports it.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') interrupt('SIGPIPE');
    });
  }
}
