import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import path from 'node:path';

/**
 * One log file per build, holding every command run and everything it printed.
 * With `verbose`, the same lines also go to stderr.
 */
export class BuildLog {
  private stream: WriteStream | undefined;
  constructor(
    readonly file: string | undefined,
    private readonly verbose: boolean,
  ) {
    if (file) {
      mkdirSync(path.dirname(file), { recursive: true });
      this.stream = createWriteStream(file, { flags: 'a' });
    }
  }

  line(text: string): void {
    const stamped = `${new Date().toISOString()} ${text}`;
    this.stream?.write(`${stamped}\n`);
    if (this.verbose) process.stderr.write(`${text}\n`);
  }

  block(prefix: string, text: string): void {
    for (const l of text.split('\n')) if (l.length) this.line(`${prefix}${l}`);
  }

  async close(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (s) await new Promise<void>((resolve) => s.end(resolve));
  }
}

/** A log that records nothing: for pure computations such as `plan`. */
export const nullLog = new BuildLog(undefined, false);
