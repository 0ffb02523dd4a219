import { AptState, AptSource, IndexEntry } from './state';
import { BuildLog } from '../../../util/log';
import { run } from '../../../util/proc';
import { XcpError } from '../../../errors';
import { LockedPackage, checkIndexedPackage } from '../../../lock/file';
import { compareDebianVersions } from '../../../format/deb/version';

export interface PinRef {
  name: string;
  /** Empty: any version (apt's candidate); the lock then pins it. */
  version: string;
  /** Where the pin is in the recipe, e.g. "packages.xen[1]". */
  where: string;
}

/** Checks each pin against the index; a missing version is reported with the versions that do exist. */
export function checkPins(pins: PinRef[], index: Map<string, IndexEntry[]>, architecture: string): string[] {
  const problems: string[] = [];
  for (const pin of pins) {
    const entries = (index.get(pin.name) ?? []).filter((e) => e.architecture === architecture || e.architecture === 'all');
    if (entries.length === 0) {
      problems.push(`${pin.where}: no package named "${pin.name}" in the recipe's archives`);
    } else if (!entries.some((e) => e.version === pin.version)) {
      const have = [...new Map(entries.map((e) => [e.version, e])).values()]
        .sort((a, b) => compareDebianVersions(b.version, a.version))
        .map((e) => `${e.version} (${e.suite})`)
        .join(', ');
      problems.push(`${pin.where}: ${pin.name} version ${pin.version} is not in the archives; available: ${have}`);
    }
  }
  return problems;
}

/** Resolves the full install closure with apt's own solver, starting from an empty system. */
export async function resolveClosure(
  apt: AptState,
  log: BuildLog,
  sources: AptSource[],
  index: Map<string, IndexEntry[]>,
  priorities: string[],
  pins: PinRef[],
): Promise<LockedPackage[]> {
  const args = ['install', '--print-uris', '-q', '--no-install-recommends', ...priorities.map((p) => `?priority(${p})`), ...pins.map((p) => (p.version ? `${p.name}=${p.version}` : p.name))];
  const res = await run(log, 'apt-get', args, { env: apt.env, allowFailure: true });
  if (res.exitCode !== 0) throw unsatisfiable(`${res.stdout}\n${res.stderr}`);

  const byPath = new Map<string, IndexEntry>();
  for (const entries of index.values()) {
    for (const e of entries) {
      const key = `${e.archive} ${e.filename}`;
      if (!byPath.has(key)) byPath.set(key, e);
    }
  }
  const packages: LockedPackage[] = [];
  for (const line of res.stdout.split('\n')) {
    const m = /^'([^']+)' \S+ \d+/.exec(line);
    if (!m) continue;
    const url = decodeURIComponent(m[1]);
    const source = sources.find((s) => url.startsWith(s.uri.replace(/\/+$/, '') + '/'));
    const filename = source ? url.slice(source.uri.replace(/\/+$/, '').length + 1) : '';
    const entry = source && byPath.get(`${source.name} ${filename}`);
    if (!entry) throw new XcpError(`apt chose ${url}, which no index of the recipe's archives lists`, 'resolution');
    packages.push(checkIndexedPackage({
      name: entry.name,
      version: entry.version,
      architecture: entry.architecture,
      sha256: entry.sha256,
      size: entry.size,
      archive: entry.archive,
      suite: entry.suite,
      filename: entry.filename,
      source: entry.source,
      ...(/^[a-z-]+$/.test(entry.stanza.Priority ?? '') ? { priority: entry.stanza.Priority } : {}),
      ...(/^[a-z0-9/-]+$/.test(entry.stanza.Section ?? '') ? { section: entry.stanza.Section } : {}),
    }));
  }
  if (packages.length === 0) throw new XcpError('apt resolved an empty closure; check the recipe base and packages', 'resolution');
  return packages;
}

/** Turns apt's "unmet dependencies" report into a one-line cause plus the conflicting lines. */
export function unsatisfiable(output: string): XcpError {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => /unmet dependencies/.test(l));
  const details: string[] = [];
  if (start >= 0) {
    let owner = '';
    for (const l of lines.slice(start + 1)) {
      if (/^E:/.test(l) || l.trim() === '') break;
      const m = /^\s*(\S+)\s*:\s*(.*)$/.exec(l);
      if (m && !/^(Depends|PreDepends|Pre-Depends|Conflicts|Breaks|Recommends)$/.test(m[1])) {
        owner = m[1];
        details.push(`${owner} ${describeRelation(m[2])}`);
      } else {
        details.push(`${owner} ${describeRelation(l.trim())}`);
      }
    }
  }
  const apterr = lines.filter((l) => /^E:/.test(l)).map((l) => l.replace(/^E:\s*/, ''));
  if (details.length) {
    return new XcpError(`the pinned packages cannot be installed together: ${details[0]}`, 'resolution', details.slice(1));
  }
  return new XcpError(`apt could not resolve the closure: ${apterr[0] ?? 'unknown error (see the log)'}`, 'resolution', apterr.slice(1));
}

function describeRelation(text: string): string {
  return text
    .replace(/^Depends:\s*/, 'depends on ')
    .replace(/^PreDepends:\s*/, 'pre-depends on ')
    .replace(/^Conflicts:\s*/, 'conflicts with ')
    .replace(/^Breaks:\s*/, 'breaks ')
    .trim();
}
