import execa from 'execa';
import { BuildLog } from './log';
import { XcpError, ExitCodeName } from '../errors';

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
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs an external tool, logging the command line and its output to the build log. */
export async function run(log: BuildLog, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  log.line(`$ ${[cmd, ...args].map(quote).join(' ')}`);
  let result;
  try {
    result = await execa(cmd, args, {
      cwd: opts.cwd,
      env: { LC_ALL: 'C.UTF-8', ...opts.env },
      input: opts.input,
      reject: false,
      stripFinalNewline: false,
    });
  } catch (err) {
    throw new XcpError(`cannot run ${cmd}: ${(err as Error).message}`, 'build');
  }
  if (result.stdout && opts.logStdout === false) log.line(`  | (${result.stdout.length} bytes of output)`);
  else if (result.stdout) log.block('  | ', result.stdout);
  if (result.stderr) log.block('  ! ', result.stderr);
  const exitCode = result.exitCode ?? 1;
  if ((result as { failed?: boolean }).failed && result.exitCode === undefined) {
    throw new XcpError(`cannot run ${cmd}: ${(result as { shortMessage?: string }).shortMessage ?? 'failed to start'}`, 'build');
  }
  if (exitCode !== 0 && !opts.allowFailure) {
    const last = lastMeaningfulLine(result.stderr) ?? lastMeaningfulLine(result.stdout) ?? `exit code ${exitCode}`;
    const what = opts.purpose ?? cmd;
    throw new XcpError(`${what} failed: ${last}`, opts.failAs ?? 'build');
  }
  return { exitCode, stdout: result.stdout, stderr: result.stderr };
}

function lastMeaningfulLine(text: string): string | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const errorLine = [...lines].reverse().find((l) => /^(E:|error|fatal)/i.test(l));
  return errorLine ?? lines[lines.length - 1];
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
