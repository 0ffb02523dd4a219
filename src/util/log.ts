import { writeSync, closeSync } from 'node:fs';
import { createNewFileSync } from './nofollow';

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
    // The directory was checked by the caller (a real directory); the name is new, never a planted one.
    if (file) this.fd = createNewFileSync(file, 'the build log');
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
