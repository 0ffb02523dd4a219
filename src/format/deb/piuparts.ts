import { promises as fs } from 'node:fs';
import path from 'node:path';
import { run } from '../../util/proc';
import { displayPath } from '../../util/paths';
import { publishAptChannel } from './apt-channel';
import { keyringName } from './apt-repo';
import { InstallCheckJob, InstallCheckResult, InstallCheckRun } from '../types';

/**
 * What piuparts may find left after a purge that is Debian's, not ours, each as
 * piuparts.debian.org treats it (ignored, with the package named). See README (piuparts).
 */
export const PIUPARTS_IGNORES: { regex: string; why: string }[] = [
  { regex: '^/etc/apparmor\\.d/(local/(abstractions/(libvirt-lxc|libvirt-qemu)?)?)?$', why: "libvirt-daemon-system's postinst creates the AppArmor local override stubs; its purge leaves them" },
  { regex: '^/root/\\.ssh/$', why: "systemd's tmpfiles.d/provision.conf creates it when systemd (a dependency of libvirt) is installed" },
  { regex: '^/var/(lib|cache|log)/private/$', why: "systemd's tmpfiles.d (DynamicUser state directories)" },
  { regex: '^/var/lib/(machines|portables)/$', why: "systemd's tmpfiles.d (systemd-machined, portablectl)" },
  { regex: '^/var/lib/systemd/(coredump|pstore)/$', why: "systemd's tmpfiles.d (systemd-coredump, systemd-pstore)" },
];

/**
 * piuparts on the recipe's own packages, offline: the release's repository (and the
 * previous one) published as the suites `current` (and `previous`) of one scratch
 * repository, a base tarball made by mmdebstrap from it, then install → purge in
 * current, and install in previous → upgrade to current → purge.
 */
export async function piupartsCheck(job: InstallCheckJob): Promise<InstallCheckResult> {
  const repo = path.join(job.workDir, 'repo');
  await fs.rm(job.workDir, { recursive: true, force: true });
  await fs.mkdir(repo, { recursive: true });
  const publish = (channel: string, releaseRepo: string, recipe = job.recipe) =>
    publishAptChannel({ root: repo, channel, recipe, releaseRepo, key: job.key, validSeconds: 86400, now: new Date(), log: job.log, progress: job.progress });
  await publish('current', job.current);
  if (job.previous) await publish('previous', job.previous.repo, job.previous.recipe);
  const base = await baseTarball(job, repo);
  const runs: InstallCheckRun[] = [await piuparts(job, repo, base, 'install-purge', ['current'])];
  if (job.previous) runs.push(await piuparts(job, repo, base, 'upgrade', ['previous', 'current']));
  return { tool: 'piuparts', ok: runs.every((r) => r.ok), runs };
}

/** The chroot piuparts starts from: Priority required from the scratch repository (the locked closure), trusting its key. */
async function baseTarball(job: InstallCheckJob, repo: string): Promise<string> {
  const keyring = path.join(repo, keyringName(job.recipe));
  const tarball = path.join(job.workDir, 'base.tar.gz');
  job.progress('piuparts: making the base tarball from the repository (mmdebstrap, offline)');
  await run(
    job.log,
    'mmdebstrap',
    [
      '--quiet',
      '--mode=root',
      '--variant=minbase',
      // The repository may lie below a directory only root can enter (a private temporary directory); its signature is what is trusted.
      '--aptopt=APT::Sandbox::User "root"',
      `--customize-hook=install -m 0644 ${keyring} "$1/etc/apt/trusted.gpg.d/${keyringName(job.recipe)}"`,
      job.recipe.target.release,
      tarball,
      // copy://: apt copies the packages into the chroot, so no bind mount of the repository is left for mmdebstrap's cleanup to trip over.
      `deb [signed-by=${keyring}] copy://${repo} current ${job.recipe.repository.components[0]}`,
    ],
    { purpose: 'mmdebstrap of the piuparts base', isolate: true },
  );
  return tarball;
}

async function piuparts(job: InstallCheckJob, repo: string, base: string, mode: InstallCheckRun['mode'], suites: string[]): Promise<InstallCheckRun> {
  const logFile = path.join(job.workDir, `${mode}.log`);
  const tmp = path.join(job.workDir, 'tmp');
  await fs.mkdir(tmp, { recursive: true });
  job.progress(`piuparts: ${mode === 'upgrade' ? 'install in the previous release, upgrade to this one, purge' : 'install and purge'}: ${job.packages.join(' ')}; log ${displayPath(logFile)}`);
  const started = Date.now();
  const res = await run(
    job.log,
    'piuparts',
    [
      `--basetgz=${base}`,
      `--mirror=file://${repo} ${job.recipe.repository.components[0]}`,
      ...suites.map((s) => `--distribution=${s}`),
      `--bindmount=${repo}`,
      `--tmpdir=${tmp}`,
      `--log-file=${logFile}`,
      ...PIUPARTS_IGNORES.map((i) => `--ignore-regex=${i.regex}`),
      '--apt',
      ...job.packages,
    ],
    { purpose: `piuparts ${mode}`, allowFailure: true, logStdout: false, onLine: (l) => / (PASS|FAIL): /.test(l) && job.progress(`piuparts: ${l.replace(/^\S+ /, '').trim()}`) },
  );
  return { mode, ok: res.exitCode === 0, seconds: (Date.now() - started) / 1000, log: logFile, failure: res.exitCode === 0 ? undefined : failureOf(await fs.readFile(logFile, 'utf8').catch(() => '')) };
}

/** piuparts' own words for what failed: its FAIL lines and the paths listed under them. */
export function failureOf(log: string): string {
  const lines = log.split('\n');
  const at = lines.findIndex((l) => / FAIL: /.test(l));
  if (at < 0) return 'piuparts failed (see its log)';
  const listed = lines.slice(at + 1).filter((l) => /^\s+\//.test(l)).slice(0, 10).map((l) => l.trim().split(/\s+/)[0]);
  return `${lines[at].replace(/^.*? FAIL: /, '')}${listed.length ? ` ${listed.join(' ')}` : ''}`;
}
