import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const projectRoot = path.resolve(__dirname, '../..');
const cli = path.join(projectRoot, 'dist/cli.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Where it ran: the build log it names is relative to this. */
  cwd?: string;
}

/** Runs the built xcpbuild CLI for real, as a user would. */
export function xcpbuild(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const cwd = opts.cwd ?? projectRoot;
  const res = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr, cwd };
}

export function json<T = Record<string, unknown>>(res: CliResult): T {
  try {
    return JSON.parse(res.stdout) as T;
  } catch {
    throw new Error(`xcpbuild printed no JSON (exit ${res.code}):\n${res.stdout}\n${res.stderr}`);
  }
}

export interface Running {
  pid: number;
  done: Promise<CliResult>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts the real CLI without waiting for it: for concurrent builds and kills. */
export function startXcpbuild(args: string[], opts: { env?: Record<string, string | undefined> } = {}): Running {
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const child = spawn(process.execPath, [cli, ...args], { cwd: projectRoot, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : -1), stdout, stderr, cwd: projectRoot })));
  return { pid: child.pid!, done, kill: (s) => child.kill(s) };
}

/** Waits until `file` exists and its text matches `re` (polling), or fails after `timeoutMs`. */
export async function waitForText(file: () => string | undefined, re: RegExp, timeoutMs: number): Promise<void> {
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const f = file();
    if (f) {
      try {
        if (re.test(readFileSync(f, 'utf8'))) return;
      } catch {
        // not there yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${re} in ${file() ?? '(no file)'}`);
}
