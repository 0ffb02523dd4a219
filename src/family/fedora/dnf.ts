import { BuildLog } from '../../util/log';
import { projectSource } from '../../util/templates';
import { DnfRequest, RepoState, RpmEntry, runDnfScript } from '../../format/rpm/dnf';

const DNF_RESOLVE = projectSource('src/family/fedora/dnf_resolve.py');

export interface Pin {
  name: string;
  /** [epoch:]version-release */
  version: string;
}

export type ResolveAnswer =
  | { error: string }
  | { missing: { name: string; version: string; available: string[] }[] }
  | { problem: string }
  | { repos: RepoState[]; packages: RpmEntry[] };

/** The closure of the pins by dnf's solver (dnf_resolve.py) in the request's private root. */
export function resolvePins(log: BuildLog, req: DnfRequest & { pins: Pin[] }): Promise<ResolveAnswer> {
  return runDnfScript<ResolveAnswer>(log, DNF_RESOLVE, req, 'resolving the closure');
}
