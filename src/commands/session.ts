import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { BuildLog, nullLog } from '../util/log';
import { sweepScratch } from '../util/scratch';
import { ownDirectory } from '../util/nofollow';
import { XcpError, ExitCode, isSystemError, fromSystemError } from '../errors';
import { displayPath } from '../util/paths';
import { printable, hasUrlCredentials } from '../util/text';
import { BuildOptions } from '../plan/types';
import { signingKeySource, sweepStaleHomes } from '../signing/gpg';
import { checkedPath, checkTmpdir } from '../util/env';
import { URL_PATTERN } from '../recipe/strings';

export interface GlobalOpts {
  out: string;
  cache: string;
  json: boolean;
  verbose: boolean;
  offline: boolean;
  locked: boolean;
  signingKey?: string;
  signingKeyPassphraseFile?: string;
  mirror: string[];
}

/**
 * What one invocation of xcpbuild owns: its log file, whether output is JSON, and
 * the single place where every outcome (result, error, interruption) is reported.
 */
export class Session {
  log: BuildLog | undefined;
  private reported = false;
  /** What the sweep at the start of the command removed, for the log once it is open. */
  private sweepNotes: string[] = [];

  constructor(readonly opts: () => GlobalOpts) {}

  get json(): boolean {
    return this.opts().json;
  }

  /** Opens the build log out/<name>/logs/<time>-<command>.log and keeps the newest 50 logs. */
  async openLog(recipeName: string, command: string): Promise<BuildLog> {
    const dir = path.resolve(this.opts().out, recipeName, 'logs');
    await ownDirectory(path.dirname(dir), 'the output directory');
    await ownDirectory(dir, 'the log directory');
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.log = new BuildLog(path.join(dir, `${stamp}-${process.pid}-${command}.log`), this.opts().verbose && !this.json);
    await pruneLogs(dir, 50);
    for (const line of this.sweepNotes) this.log.line(line);
    return this.log;
  }

  /**
   * Removes what killed runs left behind (GnuPG homes and their agents, scratch
   * directories): at the start of every command, whether or not it signs or builds.
   */
  async sweepLeftovers(): Promise<void> {
    const homes = await sweepStaleHomes(nullLog);
    const scratch = await sweepScratch();
    if (homes) this.sweepNotes.push(`removed ${homes} GnuPG home(s) left by killed runs`);
    if (scratch) this.sweepNotes.push(`removed ${scratch} scratch director${scratch === 1 ? 'y' : 'ies'} left in ${os.tmpdir()} by killed runs`);
  }

  buildOptions(extra: Partial<BuildOptions> = {}): BuildOptions {
    const g = this.opts();
    checkTmpdir();
    return {
      outRoot: checkedPath(g.out, '--out'),
      cacheDir: checkedPath(g.cache, process.env.XCPBUILD_CACHE === g.cache ? 'XCPBUILD_CACHE' : '--cache'),
      offline: g.offline,
      locked: g.locked,
      key: signingKeySource(g.signingKey, g.signingKeyPassphraseFile),
      updateLock: false,
      mirrors: parseMirrors(g.mirror),
      ...extra,
    };
  }

  /** Prints the one JSON document of a --json run, or nothing. */
  emit(doc: Record<string, unknown>): void {
    if (!this.json || this.reported) return;
    this.reported = true;
    process.stdout.write(JSON.stringify({ ...doc, ...(this.log?.file ? { log: this.log.file } : {}) }, null, 2) + '\n');
  }

  /** Reports a failure (as one line plus details, or as JSON) and returns the exit code. */
  report(err: unknown): number {
    const e = toXcpError(err);
    const internal = !(err instanceof XcpError) && !isSystemError(err);
    if (internal) this.log?.line(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    this.log?.line(`error: ${e.message}`);
    for (const d of e.details) this.log?.line(`  ${d}`);
    const logFile = this.log?.file;
    if (this.json) {
      this.emit({ ok: false, error: { kind: e.kind, exitCode: e.exitCode, message: e.message, details: e.details } });
    } else {
      process.stderr.write(`xcpbuild: ${internal ? 'internal error' : 'error'}: ${printable(e.message, 2000)}\n`);
      for (const d of e.details) process.stderr.write(`  ${printable(d, 2000)}\n`);
      if (logFile) process.stderr.write(`log: ${displayPath(logFile)}\n`);
    }
    return e.exitCode;
  }

  async close(): Promise<void> {
    await this.log?.close();
  }
}

export function toXcpError(err: unknown): XcpError {
  if (err instanceof XcpError) return err;
  if (isSystemError(err)) return fromSystemError(err);
  const message = err instanceof Error ? err.message : String(err);
  return new XcpError(message, 'internal');
}

function parseMirrors(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of list) {
    const i = m.indexOf('=');
    const name = m.slice(0, i);
    const url = m.slice(i + 1);
    if (hasUrlCredentials(url)) {
      throw new XcpError(`--mirror: credentials in a URL are refused (they would be retried in vain and written into logs); found "${printable(m)}"`, 'usage');
    }
    if (i <= 0 || !/^[a-z0-9][a-z0-9+.-]*$/.test(name) || !new RegExp(URL_PATTERN).test(url)) {
      throw new XcpError(`--mirror: expected ARCHIVE=URL (an archive name of the recipe and an http(s) or file URL), found "${printable(m)}"`, 'usage');
    }
    out[name] = url;
  }
  return out;
}

/** The name of a build log: <ISO time with - for : and .>-<pid>-<command>.log. Nothing else in logs/ is pruned. */
const LOG_NAME = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-\d+-[a-z-]+\.log$/;

/** Keeps the newest `keep` of xcpbuild's own logs: regular files with a log's name, never a link or a foreign file. */
async function pruneLogs(dir: string, keep: number): Promise<void> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => LOG_NAME.test(n)).sort();
  } catch {
    return;
  }
  for (const n of names.slice(0, Math.max(0, names.length - keep))) {
    const file = path.join(dir, n);
    const st = await fs.lstat(file).catch(() => undefined);
    if (st?.isFile()) await fs.rm(file, { force: true });
  }
}

export { ExitCode };
