import { mkdirSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * A fresh apt root in `dir` that follows one repository: apt reads only its own
 * configuration (APT_CONFIG, so the host's apt.conf.d does not apply) and checks
 * Valid-Until, as a host's apt does by default.
 */
export interface AptRoot {
  dir: string;
  env: Record<string, string>;
  /** apt-get update, optionally with the clock moved (faketime's offset, e.g. "+10d"). */
  update(clock?: string): { code: number; output: string };
  /** The Packages index apt stored, decompressed, and its sha256. */
  packages(): { text: string; sha256: string };
}

export function makeAptRoot(dir: string, source: { url: string; suite: string; keyring: string }): AptRoot {
  for (const d of ['etc/apt/sources.list.d', 'etc/apt/apt.conf.d', 'etc/apt/preferences.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'var/lib/dpkg']) mkdirSync(path.join(dir, d), { recursive: true });
  writeFileSync(path.join(dir, 'var/lib/dpkg/status'), '');
  writeFileSync(
    path.join(dir, 'apt.conf'),
    [`Dir "${dir}/";`, `Dir::State::status "${dir}/var/lib/dpkg/status";`, 'APT::Sandbox::User "root";', 'Acquire::Check-Valid-Until "true";', 'Acquire::Languages "none";', 'Acquire::GzipIndexes "false";', 'Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";', ''].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'etc/apt/sources.list.d/channel.sources'),
    `Types: deb\nURIs: ${source.url}\nSuites: ${source.suite}\nComponents: main\nArchitectures: amd64\nSigned-By: ${source.keyring}\n`,
  );
  const env = { APT_CONFIG: path.join(dir, 'apt.conf') };
  return {
    dir,
    env,
    update(clock) {
      const cmd = clock ? ['faketime', '-f', `${clock}`, 'apt-get', 'update'] : ['apt-get', 'update'];
      const res = spawnSync(cmd[0], cmd.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8' });
      return { code: res.status ?? -1, output: `${res.stdout}${res.stderr}` };
    },
    packages() {
      const lists = path.join(dir, 'var/lib/apt/lists');
      const file = readdirSync(lists).find((f) => f.endsWith('_Packages'));
      if (!file) throw new Error(`apt stored no plain Packages index in ${lists}: ${readdirSync(lists).join(' ')}`);
      const text = readFileSync(path.join(lists, file), 'utf8');
      return { text, sha256: createHash('sha256').update(text).digest('hex') };
    },
  };
}
