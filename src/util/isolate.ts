/**
 * `cmd` killed by the kernel when xcpbuild dies, however it dies (parent-death
 * signal): no tool keeps writing into a staging directory after its build was killed.
 */
export function tiedToUs(cmd: string, args: string[]): [string, string[]] {
  return ['setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args]];
}

/**
 * The command line that runs `cmd` in private mount and PID namespaces, tied to this
 * process: if xcpbuild dies (even by kill -9), the kernel sends SIGKILL to unshare
 * (parent-death signal), unshare kills the namespace's first process, and the kernel
 * then kills every process left in the namespace. The mounts a chroot build makes
 * (/proc, /sys, /dev, overlays) exist only in that namespace and vanish with it, so an
 * interrupted build never leaves mounts behind that make the next one fail with EBUSY.
 */
export function isolated(cmd: string, args: string[]): [string, string[]] {
  return [
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child=KILL', '--', cmd, ...args],
  ];
}
