import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildLog } from '../../util/log';
import { run } from '../../util/proc';
import { projectSource } from '../../util/templates';
import { XcpError } from '../../errors';
import { printable } from '../../util/text';
import { scratchDir } from '../../util/scratch';

/** dnf's Python API; the Debian package installs it for the system Python, not a pyenv or venv one. */
const PYTHON = '/usr/bin/python3';
const DNF_REPOS = projectSource('src/format/rpm/dnf_repos.py');

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
  /** The private installroot and cache (created if missing). */
  root: string;
  cache: string;
  releasever: string;
  basearch: string;
  repos: YumRepoRef[];
}

export type DnfListing = { repos: RepoState[]; packages: RpmEntry[]; unresolved?: string[] };

/** "[epoch:]version-release" as xcpbuild writes RPM versions in recipes and locks. */
export function evrOf(p: { epoch: number; version: string; release: string }): string {
  return `${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
}

/**
 * Runs a dnf script (dnf_repos.py, or one built on it such as the fedora resolver) on
 * one JSON request; returns its one-line JSON answer.
 */
export async function runDnfScript<T>(log: BuildLog, script: string, req: object, purpose: string): Promise<T> {
  const res = await run(log, PYTHON, [script, path.dirname(DNF_REPOS)], { input: JSON.stringify(req), purpose, allowFailure: true, logStdout: false });
  const line = res.stdout.trim().split('\n').pop() ?? '';
  if (res.exitCode !== 0 || !line.startsWith('{')) {
    const why = res.stderr.trim().split('\n').pop() ?? `exit ${res.exitCode}`;
    throw new XcpError(`dnf failed while ${purpose}: ${printable(why, 300)}`, 'build');
  }
  return JSON.parse(line) as T;
}

/** Lists every package of one yum repository, loaded with its signature checked (a throwaway dnf root). */
export async function listYumRepo(log: BuildLog, repo: YumRepoRef, releasever: string, basearch: string): Promise<DnfListing> {
  const tmp = await scratchDir('dnf');
  try {
    const req: DnfRequest = { root: path.join(tmp, 'root'), cache: path.join(tmp, 'cache'), releasever, basearch, repos: [repo] };
    const answer = await runDnfScript<DnfListing | { error: string }>(log, DNF_REPOS, req, `reading the yum repository ${repo.url}`);
    if ('error' in answer) throw new XcpError(answer.error, 'verification');
    if (!('packages' in answer)) throw new XcpError('dnf gave no package list', 'internal');
    return answer;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
