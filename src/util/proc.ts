import execa from 'execa';
import { BuildLog } from './log';
import { XcpError, ExitCodeName } from '../errors';
import { isolated, tiedToUs } from './isolate';
import { printable } from './text';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  /** Error kind when the command fails; defaults to 'build'. */
  failAs?: ExitCodeName;
  /** What the command was for, used in the one-line failure message. */
  purpose?: string;
  /** Return the result instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
  /** Log only the size of stdout (for commands that print whole indexes). */
  logStdout?: boolean;
  /** Run in private mount and PID namespaces that die with xcpbuild (chroot builds). */
  isolate?: boolean;
  /**
   * Lines on stderr that mean failure even when the exit code is 0 (apt-ftparchive,
   * for one, reports unreadable packages as "E:" and exits 0).
   */
  errorLines?: RegExp;
  /** Called with each line of output as it comes (progress of long commands). */
  onLine?: (line: string) => void;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs an external tool, logging the command line and its output to the build log. */
export async function run(log: BuildLog, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  log.line(`$ ${[cmd, ...args].map(quoteForLog).join(' ')}${opts.isolate ? '   (in private mount/PID namespaces)' : ''}`);
  const [file, argv] = opts.isolate ? isolated(cmd, args) : tiedToUs(cmd, args);
  let result;
  try {
    const child = execa(file, argv, {
      cwd: opts.cwd,
      env: opts.env,
      input: opts.input,
      reject: false,
      stripFinalNewline: false,
      maxBuffer: 512 * 1024 * 1024,
    });
    if (opts.onLine) {
      let buf = '';
      const feed = (d: Buffer) => {
        buf += d.toString('utf8');
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          opts.onLine!(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      };
      child.stdout?.on('data', feed);
      child.stderr?.on('data', feed);
    }
    result = await child;
  } catch (err) {
    throw new XcpError(`cannot run ${cmd}: ${(err as Error).message}`, 'build');
  }
  if (result.stdout && opts.logStdout === false) log.line(`  | (${result.stdout.length} bytes of output)`);
  else if (result.stdout) log.block('  | ', result.stdout);
  if (result.stderr) log.block('  ! ', result.stderr);
  if ((result as { failed?: boolean }).failed && result.exitCode === undefined) {
    const short = (result as { shortMessage?: string }).shortMessage ?? 'failed to start';
    throw new XcpError(/ENOENT/.test(short) ? `cannot run ${cmd}: it is not installed (run make setup)` : `cannot run ${cmd}: ${short}`, 'build');
  }
  const exitCode = result.exitCode ?? 1;
  const what = opts.purpose ?? cmd;
  const all = `${result.stderr}\n${result.stdout}`;
  if (exitCode !== 0 && !opts.allowFailure) {
    if (/No space left on device/i.test(all)) throw new XcpError(`${what} failed: disk full (no space left on device)${spacePath(all)}`, 'build');
    const last = lastMeaningfulLine(result.stderr) ?? lastMeaningfulLine(result.stdout) ?? `exit code ${exitCode}`;
    throw new XcpError(`${what} failed: ${printable(last, 300)}`, opts.failAs ?? 'build');
  }
  if (opts.errorLines && !opts.allowFailure) {
    const bad = result.stderr.split('\n').find((l) => opts.errorLines!.test(l));
    if (bad) throw new XcpError(`${what} reported an error although it exited 0: ${printable(bad.trim(), 300)}`, opts.failAs ?? 'build');
  }
  return { exitCode, stdout: result.stdout, stderr: result.stderr };
}

function spacePath(text: string): string {
  const m = /(\/[^\s:'"]+)[^\n]*No space left on device/i.exec(text);
  return m ? ` (writing ${m[1]})` : '';
}

function lastMeaningfulLine(text: string): string | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const errorLine = [...lines].reverse().find((l) => /^(E:|error|fatal)/i.test(l));
  return errorLine ?? lines[lines.length - 1];
}

function quoteForLog(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${printable(arg, 2000).replace(/'/g, `'\\''`)}'`;
}
