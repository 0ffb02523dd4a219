import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildLog } from '../../../util/log';
import { run } from '../../../util/proc';
import { XcpError } from '../../../errors';
import { parseDeb822, Stanza, sourceName } from '../../../format/deb/deb822';
import { sha256 } from '../../../util/hash';
import { AptPaths } from '../../../util/apt-path';
import { plainPoolPath } from '../../../lock/file';
import { deb822Value, printable } from '../../../util/text';

export interface AptSource {
  name: string;
  uri: string;
  suites: string[];
  components: string[];
  /** Absolute path of the keyring that must have signed the archive's InRelease. */
  keyring: string;
}

/** One binary package version as an archive index lists it. */
export interface IndexEntry {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  size: number;
  filename: string;
  source: string;
  archive: string;
  suite: string;
  stanza: Stanza;
}

export interface IndexedRelease {
  archive: string;
  uri: string;
  suite: string;
  inReleaseFile: string;
}

/** apt's words for an index it refuses to trust, as opposed to one it could not download. */
const VERIFICATION_FAILURE = /NO_PUBKEY|not signed|EXPKEYSIG|REVKEYSIG|BADSIG|signature|OpenPGP|is expired|is not valid yet|invalid since|invalid for another/i;

/**
 * A private apt configuration and state directory: apt reads only the recipe's
 * sources, trusts only the recipe's keyrings, and never touches the host's state.
 */
export class AptState {
  constructor(
    readonly root: string,
    private readonly log: BuildLog,
    private readonly paths: AptPaths,
  ) {}

  get env(): Record<string, string> {
    return { APT_CONFIG: path.join(this.root, 'apt.conf') };
  }

  async setup(sources: AptSource[], architecture: string): Promise<void> {
    const r = this.root;
    for (const d of ['etc/apt/apt.conf.d', 'etc/apt/preferences.d', 'etc/apt/trusted.gpg.d', 'etc/apt/sources.list.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'var/lib/dpkg']) {
      await fs.mkdir(path.join(r, d), { recursive: true });
    }
    await fs.writeFile(path.join(r, 'var/lib/dpkg/status'), '');
    await fs.writeFile(
      path.join(r, 'apt.conf'),
      [
        `Dir "${r}/";`,
        `Dir::State::status "${r}/var/lib/dpkg/status";`,
        `APT::Architecture "${architecture}";`,
        `APT::Architectures { "${architecture}"; };`,
        'Acquire::Languages "none";',
        'Acquire::Retries "4";',
        'Acquire::http::Timeout "30";',
        'APT::Install-Recommends "false";',
        'APT::Update::Error-Mode "any";',
        'Debug::NoLocking "true";',
        '',
      ].join('\n'),
    );
    const entries = [];
    for (const s of sources) {
      entries.push(
        [
          'Types: deb',
          `URIs: ${deb822Value('URIs', s.uri)}`,
          `Suites: ${deb822Value('Suites', s.suites.join(' '))}`,
          `Components: ${deb822Value('Components', s.components.join(' '))}`,
          `Signed-By: ${deb822Value('Signed-By', await this.paths.of(s.keyring))}`,
          '',
        ].join('\n'),
      );
    }
    await fs.writeFile(path.join(r, 'etc/apt/sources.list.d/recipe.sources'), entries.join('\n'));
  }

  /** Downloads and verifies every InRelease and Packages index; apt checks the signatures against Signed-By. */
  async update(): Promise<void> {
    const res = await run(this.log, 'apt-get', ['update'], { env: this.env, allowFailure: true });
    if (res.exitCode === 0) return;
    const out = `${res.stdout}\n${res.stderr}`;
    const lines = out.split('\n').map((l) => l.trim());
    // A signed index apt will not trust (bad or missing signature, expired Valid-Until, a Date in the future):
    // retrying cannot help, so this is verification (exit 7), never network.
    const sig = lines.find((l) => /^(E|W|Err):?/.test(l) && VERIFICATION_FAILURE.test(l));
    if (sig) throw new XcpError(`archive verification failed: ${printable(sig.replace(/^(E|W|Err):?\s*/, ''), 400)}`, 'verification');
    const fetchErr = lines.find((l) => /^(E|W|Err):?.*(Failed to fetch|Could not|Unable to connect|404|Temporary failure|Connection)/i.test(l));
    const cause = fetchErr ?? lines.filter((l) => /^E:/.test(l)).pop() ?? `apt-get update exited with ${res.exitCode}`;
    throw new XcpError(`cannot download the archive indexes (after retries): ${cause.replace(/^(E|W|Err):\s*/, '')}`, 'network');
  }

  async releases(sources: AptSource[]): Promise<IndexedRelease[]> {
    return (await this.indexTargets(sources)).map(({ archive, uri, suite, inReleaseFile }) => ({ archive, uri, suite, inReleaseFile }));
  }

  private async indexTargets(sources: AptSource[]) {
    const res = await run(this.log, 'apt-get', ['indextargets', 'Identifier: Packages'], { env: this.env, purpose: 'apt-get indextargets' });
    const targets = [];
    for (const t of parseDeb822(res.stdout)) {
      const repo = t['Repo-URI'].replace(/\/+$/, '');
      const source = sources.find((s) => s.uri.replace(/\/+$/, '') === repo);
      if (!source) continue;
      const metaKeyFile = t.MetaKey.replace(/\//g, '_');
      const inReleaseFile = t.Filename.slice(0, -metaKeyFile.length) + 'InRelease';
      targets.push({ archive: source.name, uri: repo, suite: t.Release, component: t.Component, packagesFile: t.Filename, inReleaseFile });
    }
    return targets;
  }

  /** Every package version the configured archives offer, by package name, in recipe order. */
  async index(sources: AptSource[]): Promise<Map<string, IndexEntry[]>> {
    const byName = new Map<string, IndexEntry[]>();
    const targets = await this.indexTargets(sources);
    const order = (t: { archive: string; suite: string }) => {
      const si = sources.findIndex((s) => s.name === t.archive);
      return si * 1000 + sources[si].suites.indexOf(t.suite);
    };
    targets.sort((a, b) => order(a) - order(b));
    for (const t of targets) {
      let text: string;
      try {
        text = await fs.readFile(t.packagesFile, 'utf8');
      } catch {
        continue;
      }
      for (const st of parseDeb822(text)) {
        if (!plainPoolPath(st.Filename, 'pool/')) {
          throw new XcpError(`archive ${t.archive} (${t.suite}) lists package ${printable(String(st.Package))} with Filename "${printable(String(st.Filename), 200)}", not a plain relative path under pool/; refused (the index is hostile or broken)`, 'verification');
        }
        const entry: IndexEntry = {
          name: st.Package,
          version: st.Version,
          architecture: st.Architecture,
          sha256: st.SHA256,
          size: Number(st.Size),
          filename: st.Filename,
          source: sourceName(st),
          archive: t.archive,
          suite: t.suite,
          stanza: st,
        };
        const list = byName.get(entry.name);
        if (list) list.push(entry);
        else byName.set(entry.name, [entry]);
      }
    }
    return byName;
  }

  async inReleaseInfo(file: string): Promise<{ sha256: string; date: string }> {
    const text = await fs.readFile(file, 'utf8');
    const date = /^Date:\s*(.+)$/m.exec(text)?.[1] ?? '';
    return { sha256: sha256(text), date };
  }
}
