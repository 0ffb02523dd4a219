import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildLog } from '../../util/log';
import { run } from '../../util/proc';
import { projectRoot } from '../../util/templates';
import { XcpError } from '../../errors';
import { printable } from '../../util/text';
import { scratchDir } from '../../util/scratch';

/** dnf's Python API; the Debian package installs it for the system Python, not a pyenv or venv one. */
const PYTHON = '/usr/bin/python3';
export const DNF_HELPER = path.join(projectRoot, 'src/format/rpm/dnf-helper.py');

export interface YumRepoRef {
  id: string;
  url: string;
  /** Absolute paths of armored OpenPGP public keys: repomd.xml and the packages must be signed by one. */
  keys: string[];
}

export interface RpmEntry {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  location: string;
  checksum_type: string;
  sha256: string;
  size: number;
  repo: string;
  sourcerpm: string;
}

export interface RepoState {
  id: string;
  repomd_sha256: string;
  revision: string;
}

export interface DnfRequest {
  mode: 'resolve' | 'list';
  /** The private installroot and cache (created if missing). */
  root: string;
  cache: string;
  releasever: string;
  basearch: string;
  repos: YumRepoRef[];
  pins?: { name: string; version: string }[];
}

export type DnfAnswer =
  | { error: string }
  | { missing: { name: string; version: string; available: string[] }[] }
  | { problem: string }
  | { repos: RepoState[]; packages: RpmEntry[]; unresolved?: string[] };

/** "[epoch:]version-release" as xcpbuild writes RPM versions in recipes and locks. */
export function evrOf(p: { epoch: number; version: string; release: string }): string {
  return `${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
}

/** Runs the dnf helper (dnf-helper.py) on one request. */
export async function dnfQuery(log: BuildLog, req: DnfRequest, purpose: string): Promise<DnfAnswer> {
  const res = await run(log, PYTHON, [DNF_HELPER], { input: JSON.stringify(req), purpose, allowFailure: true, logStdout: false });
  const line = res.stdout.trim().split('\n').pop() ?? '';
  if (res.exitCode !== 0 || !line.startsWith('{')) {
    const why = res.stderr.trim().split('\n').pop() ?? `exit ${res.exitCode}`;
    throw new XcpError(`dnf failed while ${purpose}: ${printable(why, 300)}`, 'build');
  }
  return JSON.parse(line) as DnfAnswer;
}

/** Lists every package of one yum repository, loaded with its signature checked (a throwaway dnf root). */
export async function listYumRepo(log: BuildLog, repo: YumRepoRef, releasever: string, basearch: string): Promise<{ repos: RepoState[]; packages: RpmEntry[]; unresolved?: string[] }> {
  const tmp = await scratchDir('dnf');
  try {
    const answer = await dnfQuery(log, { mode: 'list', root: path.join(tmp, 'root'), cache: path.join(tmp, 'cache'), releasever, basearch, repos: [repo] }, `reading the yum repository ${repo.url}`);
    if ('error' in answer) throw new XcpError(answer.error, 'verification');
    if (!('packages' in answer)) throw new XcpError('dnf gave no package list', 'internal');
    return answer;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
