import { closeSync, ftruncateSync, writeSync, readSync } from 'node:fs';
import { openOwnFileSync } from './nofollow';
import { spawn } from 'node:child_process';
import { XcpError } from '../errors';
import { printable } from './text';

/**
 * An exclusive flock(2) lock held by this process. Node cannot call flock itself, so
 * flock(1) is run on an inherited descriptor: the lock belongs to the shared open file
 * description and stays held by this process after flock(1) exits. The kernel drops it
 * when this process ends, however it ends (kill -9 included): no stale lock files.
 */
export class FileLock {
  private constructor(
    readonly file: string,
    private fd: number | undefined,
  ) {}

  /**
   * Takes the lock; if another process holds it, calls `onWait` with what that process
   * wrote into the lock file and waits (up to `timeoutSeconds`, or forever).
   */
  static async acquire(file: string, what: string, onWait?: (holder: string) => void, timeoutSeconds?: number): Promise<FileLock> {
    const fd = openOwnFileSync(file, 'the lock file');
    try {
      if ((await flock(fd, ['-n'])) !== 0) {
        onWait?.(readHolder(fd));
        const args = timeoutSeconds === undefined ? [] : ['-w', String(timeoutSeconds)];
        if ((await flock(fd, args)) !== 0) {
          throw new XcpError(`gave up waiting after ${timeoutSeconds}s for ${readHolder(fd)} to release ${file}`, 'build');
        }
      }
      claim(fd, `${what} (since ${new Date().toISOString()})`);
      return new FileLock(file, fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Takes the lock only if it is free; undefined if another process holds it. */
  static async tryAcquire(file: string, what: string): Promise<FileLock | undefined> {
    const fd = openOwnFileSync(file, 'the lock file');
    if ((await flock(fd, ['-n'])) !== 0) {
      closeSync(fd);
      return undefined;
    }
    claim(fd, what);
    return new FileLock(file, fd);
  }

  release(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }
}

/** Records the holder in the lock file, through the descriptor that was checked to be a plain file. */
function claim(fd: number, what: string): void {
  ftruncateSync(fd, 0);
  writeSync(fd, `pid ${process.pid}: ${what}\n`, 0);
}

function readHolder(fd: number): string {
  try {
    const buf = Buffer.alloc(512);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return printable(buf.subarray(0, n).toString('utf8').trim().split('\n')[0], 200) || 'another process';
  } catch {
    return 'another process';
  }
}

function flock(fd: number, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', [...args, '-x', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new XcpError(`cannot run flock(1) (util-linux): ${e.message}`, 'build')));
    child.on('exit', (code) => {
      if (code === 0 || code === 1) resolve(code);
      else reject(new XcpError(`flock failed: ${err.trim() || `exit ${code}`}`, 'build'));
    });
  });
}
