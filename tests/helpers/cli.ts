import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const projectRoot = path.resolve(__dirname, '../..');
const cli = path.join(projectRoot, 'dist/cli.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built xcpbuild CLI for real, as a user would. */
export function xcpbuild(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const res = spawnSync(process.execPath, [cli, ...args], {
    cwd: opts.cwd ?? projectRoot,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

export function json<T = Record<string, unknown>>(res: CliResult): T {
  try {
    return JSON.parse(res.stdout) as T;
  } catch {
    throw new Error(`xcpbuild printed no JSON (exit ${res.code}):\n${res.stdout}\n${res.stderr}`);
  }
}
