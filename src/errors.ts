/** Exit codes are part of the CLI contract; keep them in sync with the README. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  invalidInput: 3,
  resolution: 4,
  network: 5,
  build: 6,
  verification: 7,
} as const;
export type ExitCodeName = keyof typeof ExitCode;

/**
 * An error whose message is fit to show a user as-is: one line of cause,
 * optionally followed by detail lines (e.g. every recipe error at once).
 */
export class XcpError extends Error {
  constructor(
    message: string,
    readonly kind: ExitCodeName = 'build',
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'XcpError';
  }
  get exitCode(): number {
    return ExitCode[this.kind];
  }
}

export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOENT: 'no such file or directory',
    ENOTDIR: 'a parent path is not a directory',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EEXIST: 'already exists',
  };
  if (e && typeof e.code === 'string' && reasons[e.code]) return reasons[e.code];
  return e instanceof Error ? e.message : String(err);
}
