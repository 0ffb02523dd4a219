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
  interrupted: 130,
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

const reasons: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a parent path is not a directory',
  EISDIR: 'is a directory',
  EROFS: 'read-only file system (mounted read-only)',
  ENOSPC: 'disk full (no space left on device)',
  EDQUOT: 'disk full (disk quota exceeded)',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  EEXIST: 'already exists',
  EBUSY: 'device or resource busy',
  EXDEV: 'cross-device link',
  ELOOP: 'too many levels of symbolic links',
};

/** Errors of the machine (disk full, I/O) rather than of the input: a build problem, exit 6. */
const machineErrors = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'EBUSY']);

export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && reasons[e.code]) return reasons[e.code];
  return e instanceof Error ? e.message : String(err);
}

export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  return !!e && typeof e === 'object' && typeof e.code === 'string' && typeof e.syscall === 'string';
}

/** A write failed for want of space: no retry can help. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** The exit kind of a system error: the machine's (disk full, I/O) is a build problem, the rest is the input's. */
export function systemErrorKind(err: unknown): ExitCodeName {
  return machineErrors.has((err as NodeJS.ErrnoException)?.code ?? '') ? 'build' : 'invalidInput';
}

/** Turns a Node system error (ENOSPC, EACCES, …) into one line that names the path. */
export function fromSystemError(err: NodeJS.ErrnoException): XcpError {
  const where = [e(err.path), e((err as { dest?: string }).dest)].filter(Boolean).join(' → ');
  return new XcpError(`${where ? `${where}: ` : ''}${describeSystemError(err)} (${err.syscall})`, systemErrorKind(err));
}

function e(p: string | undefined): string {
  return p ?? '';
}
