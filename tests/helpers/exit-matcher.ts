import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * expect(res).toExitWith(code): on a wrong exit code the failure shows the command's
 * stderr and the tail of its build log, so a flaky run explains itself.
 */
interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  cwd?: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      toExitWith(code: number): R;
    }
  }
}

/** The build log the run named: "log: <path>" on stderr or stdout, or "log" in its JSON. */
export function logOf(res: Ran): string | undefined {
  const named = /(?:^|\n)log: (.+)\n/.exec(`${res.stderr}\n`)?.[1] ?? /(?:^|\n)log: (.+)\n/.exec(`${res.stdout}\n`)?.[1] ?? /"log": "([^"]+)"/.exec(res.stdout)?.[1];
  if (!named) return undefined;
  const file = path.resolve(res.cwd ?? path.resolve(__dirname, '../..'), named);
  return existsSync(file) ? file : undefined;
}

function explain(res: Ran): string {
  const log = logOf(res);
  const tail = log ? readFileSync(log, 'utf8').split('\n').slice(-40).join('\n') : '(no build log named)';
  return `stderr:\n${res.stderr.slice(-4000)}\nlog: ${log ?? 'none'}\n${tail}`;
}

expect.extend({
  toExitWith(res: Ran, code: number) {
    const pass = res.code === code;
    return {
      pass,
      message: () => (pass ? `expected an exit code other than ${code}` : `expected exit ${code}, got ${res.code}\n${explain(res)}`),
    };
  },
});
