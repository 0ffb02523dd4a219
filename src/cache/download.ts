import { promises as fs, createWriteStream, constants as fsConstants } from 'node:fs';
import { ContentStore } from './store';
import { XcpError, fromSystemError, isDiskFull } from '../errors';
import { printable } from '../util/text';
import { BuildLog } from '../util/log';

export interface DownloadItem {
  url: string;
  sha256: string;
  size: number;
  label: string;
}

export interface DownloadOptions {
  concurrency: number;
  attempts: number;
  /** Base delay of the exponential backoff between attempts, in ms. */
  backoffMs: number;
  idleTimeoutMs: number;
  /**
   * The slowest a download may be: an attempt that receives fewer than
   * minBytesPerSecond × rateWindowSeconds bytes in any window of rateWindowSeconds is
   * given up (a mirror that drips a byte every few seconds never trips the idle timeout).
   */
  minBytesPerSecond: number;
  rateWindowSeconds: number;
  onProgress?: (doneBytes: number, totalBytes: number, doneFiles: number, totalFiles: number) => void;
}

export const defaultDownloadOptions: DownloadOptions = { concurrency: 6, attempts: 5, backoffMs: 500, idleTimeoutMs: 30000, minBytesPerSecond: 16384, rateWindowSeconds: 60 };

/** The throughput floor from the environment (XCPBUILD_DOWNLOAD_MIN_RATE bytes/s, XCPBUILD_DOWNLOAD_RATE_WINDOW s), or the defaults. */
export function downloadOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DownloadOptions {
  const int = (name: string, fallback: number, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d{1,9}$/.test(raw) || Number(raw) < min) throw new XcpError(`${name}: expected a whole number of at least ${min}, found "${printable(raw)}"`, 'usage');
    return Number(raw);
  };
  return {
    ...defaultDownloadOptions,
    minBytesPerSecond: int('XCPBUILD_DOWNLOAD_MIN_RATE', defaultDownloadOptions.minBytesPerSecond, 0),
    rateWindowSeconds: int('XCPBUILD_DOWNLOAD_RATE_WINDOW', defaultDownloadOptions.rateWindowSeconds, 1),
  };
}

class PermanentError extends Error {}

/** What a fetch has done so far, reported as progress. */
class Tally {
  doneBytes = 0;
  doneFiles = 0;
  downloaded = 0;
  fetchedBytes = 0;

  constructor(
    private readonly totalBytes: number,
    private readonly totalFiles: number,
    private readonly onProgress?: DownloadOptions['onProgress'],
  ) {}

  report(): void {
    this.onProgress?.(this.doneBytes, this.totalBytes, this.doneFiles, this.totalFiles);
  }

  /** A file that is in the store now, fetched by this run or not: nothing failed. */
  have(item: DownloadItem): undefined {
    this.doneBytes += item.size;
    this.doneFiles++;
    this.report();
    return undefined;
  }
}

/** Downloads every item not yet in the store: parallel, resumable, retried with backoff, verified by sha256. */
export async function downloadAll(store: ContentStore, items: DownloadItem[], log: BuildLog, opts: DownloadOptions = defaultDownloadOptions): Promise<{ downloaded: number; bytes: number }> {
  const tally = new Tally(items.reduce((s, i) => s + i.size, 0), items.length, opts.onProgress);
  const queue = [...items];
  const failures: string[] = [];
  async function worker(): Promise<void> {
    for (let item = queue.shift(); item; item = queue.shift()) {
      // One file that cannot be had fails the fetch: no new downloads start after it (a dead mirror fails in one file's time).
      const failure = await downloadOne(store, item, opts, log, tally).catch((err: unknown) => {
        queue.length = 0;
        throw err;
      });
      if (failure) {
        failures.push(failure);
        queue.length = 0;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, items.length) }, worker));
  if (failures.length) {
    throw new XcpError(`could not download ${failures.length} file(s) after ${opts.attempts} attempts: ${failures[0]}`, 'network', failures.slice(1));
  }
  return { downloaded: tally.downloaded, bytes: tally.fetchedBytes };
}

/** One file, with retries; returns why it could not be had, if so. A full disk is thrown at once. */
async function downloadOne(store: ContentStore, item: DownloadItem, opts: DownloadOptions, log: BuildLog, tally: Tally): Promise<string | undefined> {
  if (await store.has(item.sha256, item.size)) return tally.have(item);
  let lastError = '';
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    let counted = 0;
    try {
      const bytes = await fetchInto(store, item, opts, log, (n) => {
        counted += n;
        tally.doneBytes += n;
        tally.report();
      });
      tally.doneBytes -= counted;
      tally.fetchedBytes += bytes;
      tally.downloaded++;
      return tally.have(item);
    } catch (err) {
      tally.doneBytes -= counted;
      if (isDiskFull(err)) throw fromSystemError(err as NodeJS.ErrnoException);
      lastError = (err as Error).message;
      log.line(`download ${item.url} attempt ${attempt}/${opts.attempts} failed: ${lastError}`);
      if (err instanceof PermanentError) break;
      // Another process may have committed the file meanwhile (a shared cache).
      if (await store.has(item.sha256, item.size)) return tally.have(item);
      if (attempt < opts.attempts) await new Promise((r) => setTimeout(r, opts.backoffMs * 2 ** (attempt - 1)));
    }
  }
  return `${item.label}: ${lastError} (${item.url})`;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

/** Aborts a request when no data came for the idle timeout; re-armed with every chunk. */
class IdleTimer {
  readonly controller = new AbortController();
  private timer: NodeJS.Timeout;

  constructor(private readonly ms: number) {
    this.timer = setTimeout(() => this.controller.abort(), ms);
  }

  rearm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(), this.ms);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/**
 * One attempt. Continues a partial file left by an interrupted run with a Range
 * request; a partial that is already complete is checked and committed (or thrown
 * away) without asking the server for the impossible range past its end.
 */
async function fetchInto(store: ContentStore, item: DownloadItem, opts: DownloadOptions, log: BuildLog, onBytes: (n: number) => void): Promise<number> {
  const partial = await store.claimPartial(item.sha256);
  const have = await resumablePart(store, item, partial, log);
  if (have === undefined) return 0;
  if (item.url.startsWith('file://')) return copyLocal(store, item, partial, onBytes);
  const idle = new IdleTimer(opts.idleTimeoutMs);
  let written: number;
  try {
    const { res, from } = await request(item, partial, have, idle);
    written = await receive(res, { partial, from, item, opts, idle, onBytes });
  } finally {
    idle.clear();
  }
  await store.commit(item.sha256, item.size, partial);
  return written;
}

/** How much of a partial file left by an earlier run to continue from; undefined if it was complete (and is committed now). */
async function resumablePart(store: ContentStore, item: DownloadItem, partial: string, log: BuildLog): Promise<number | undefined> {
  const have = await sizeOf(partial);
  if (have < item.size) return have;
  try {
    await store.commit(item.sha256, item.size, partial);
    log.line(`download ${item.url}: the partial file left by an earlier run was complete and verified`);
    return undefined;
  } catch {
    log.line(`download ${item.url}: discarded a partial file left by an earlier run (${have} bytes, not the locked file)`);
    await fs.rm(partial, { force: true });
    return 0;
  }
}

/** The HTTP request, continuing at `have` bytes; returns the response and the offset its body starts at. */
async function request(item: DownloadItem, partial: string, have: number, idle: IdleTimer): Promise<{ res: Response; from: number }> {
  let res: Response;
  try {
    res = await fetch(item.url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: idle.controller.signal });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(cause?.code ?? cause?.message ?? (err as Error).message);
  }
  if (res.status === 404 || res.status === 410) throw new PermanentError(`HTTP ${res.status}: the mirror no longer has this file`);
  if (res.status === 416) {
    await fs.rm(partial, { force: true });
    throw new Error('HTTP 416: the server refused to continue the partial file; starting over');
  }
  if (res.status !== 200 && res.status !== 206) throw new Error(`HTTP ${res.status}`);
  // A server that ignored the Range request sends the whole file: start over.
  if (res.status === 200) return { res, from: 0 };
  const start = Number(/^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1]);
  if (start !== have) {
    await fs.rm(partial, { force: true });
    throw new Error(`the server answered a range starting at ${start}, asked for ${have}`);
  }
  return { res, from: have };
}

interface Receiving {
  partial: string;
  from: number;
  item: DownloadItem;
  opts: DownloadOptions;
  idle: IdleTimer;
  onBytes(n: number): void;
}

/** Streams the body into the partial file (appending from `from`), under the idle timeout and the throughput floor. */
async function receive(res: Response, r: Receiving): Promise<number> {
  const { O_WRONLY, O_CREAT, O_NOFOLLOW, O_APPEND, O_TRUNC } = fsConstants;
  const handle = await fs.open(r.partial, O_WRONLY | O_CREAT | O_NOFOLLOW | (r.from > 0 ? O_APPEND : O_TRUNC), 0o644);
  const out = createWriteStream(r.partial, { fd: handle });
  // A failed write (a full disk) must end this attempt at once, not surface later as an unhandled rejection.
  let writeError: NodeJS.ErrnoException | undefined;
  const outDone = new Promise<void>((resolve) => {
    out.on('finish', resolve);
    out.on('error', (err) => {
      writeError = withPathOf(err, r.partial);
      r.idle.controller.abort();
      resolve();
    });
  });
  let written = 0;
  const floor = throughputFloor(r.opts, () => written, () => r.idle.controller.abort());
  try {
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (writeError) throw writeError;
      if (done) break;
      r.idle.rearm();
      written += value.length;
      if (r.from + written > r.item.size) throw new Error(`the server sent more than the locked size ${r.item.size}`);
      r.onBytes(value.length);
      if (!out.write(value)) await new Promise<void>((ok) => (writeError ? ok() : out.once('drain', () => ok())));
    }
  } catch (err) {
    if (writeError) throw writeError;
    throw new Error(floor.tripped() ?? (r.idle.controller.signal.aborted ? `no data for ${r.opts.idleTimeoutMs / 1000}s` : (err as Error).message));
  } finally {
    floor.stop();
    out.end();
    await outDone;
  }
  if (writeError) throw writeError;
  return written;
}

/**
 * Checks the bytes received every window and calls `abort` when a window brought
 * fewer than the floor allows; the partial file stays, so the next attempt resumes.
 */
function throughputFloor(opts: DownloadOptions, received: () => number, abort: () => void): { tripped: () => string | undefined; stop: () => void } {
  let why: string | undefined;
  if (opts.minBytesPerSecond <= 0) return { tripped: () => undefined, stop: () => undefined };
  let atWindowStart = 0;
  const timer = setInterval(() => {
    const got = received() - atWindowStart;
    atWindowStart = received();
    if (got < opts.minBytesPerSecond * opts.rateWindowSeconds) {
      why = `slower than ${(opts.minBytesPerSecond / 1024).toFixed(0)} KiB/s (${got} bytes in ${opts.rateWindowSeconds}s; XCPBUILD_DOWNLOAD_MIN_RATE sets the floor)`;
      abort();
    }
  }, opts.rateWindowSeconds * 1000);
  return { tripped: () => why, stop: () => clearInterval(timer) };
}

function withPathOf(err: NodeJS.ErrnoException, file: string): NodeJS.ErrnoException {
  if (!err.path) err.path = file;
  return err;
}

/** A file:// archive (a local mirror): copied into the partial file, then verified like any download. */
async function copyLocal(store: ContentStore, item: DownloadItem, partial: string, onBytes: (n: number) => void): Promise<number> {
  const file = decodeURIComponent(new URL(item.url).pathname);
  try {
    await fs.copyFile(file, partial);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (isDiskFull(err)) throw withPathOf(err as NodeJS.ErrnoException, partial);
    if (code === 'ENOENT') throw new PermanentError('the archive has no such file');
    throw new Error(code ?? (err as Error).message);
  }
  const size = await sizeOf(partial);
  onBytes(size);
  await store.commit(item.sha256, item.size, partial);
  return size;
}
