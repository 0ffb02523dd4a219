import { openSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * One log file per build, holding every command run and everything it printed.
 * With `verbose`, the same lines also go to stderr. Writes are synchronous and a
 * failed write (a full disk) drops that line only: the log must still take the
 * final error once the failed build has freed its staging space.
 */
export class BuildLog {
  private fd: number | undefined;
  private lost = 0;
  constructor(
    readonly file: string | undefined,
    private readonly verbose: boolean,
  ) {
    if (file) {
      mkdirSync(path.dirname(file), { recursive: true });
      this.fd = openSync(file, 'a', 0o644);
    }
  }

  line(text: string): void {
    if (this.fd !== undefined) {
      const pending = this.lost ? `${new Date().toISOString()} (${this.lost} log line(s) lost: the disk was full)\n` : '';
      try {
        writeSync(this.fd, `${pending}${new Date().toISOString()} ${text}\n`);
        this.lost = 0;
      } catch {
        this.lost++;
      }
    }
    if (this.verbose) process.stderr.write(`${text}\n`);
  }

  block(prefix: string, text: string): void {
    for (const l of text.split('\n')) if (l.length) this.line(`${prefix}${l}`);
  }

  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // nothing left to do
      }
    }
  }
}

/** A log that records nothing: for pure computations such as `plan`. */
export const nullLog = new BuildLog(undefined, false);
