import path from 'node:path';
import { promises as fs } from 'node:fs';
import { BuildLog } from '../../util/log';
import { run } from '../../util/proc';
import { parseDeb822 } from './deb822';
import { ChangelogEntry, DeclaredLicense } from '../types';
import { debianLicenseToSpdx } from '../../license/spdx-map';
import { scratchDir } from '../../util/scratch';

/** One file of a .deb's data archive as text, or undefined when the package does not have it. */
async function debMember(log: BuildLog, deb: string, member: string): Promise<string | undefined> {
  // Arguments reach the shell as positional parameters, never as shell text.
  const res = await run(log, 'bash', ['-o', 'pipefail', '-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO -f - "$2"', 'debMember', deb, `./${member}`], {
    allowFailure: true,
    logStdout: false,
    purpose: `reading ${member} from ${path.basename(deb)}`,
  });
  return res.exitCode === 0 ? res.stdout : undefined;
}

/**
 * The Debian changelog entries of a package newer than `since`, newest first, as
 * dpkg-parsechangelog reads them from the package's own changelog.Debian.gz (or
 * changelog.gz for native packages). Undefined when the package ships none (its
 * doc directory is a symlink to another package's, for instance).
 */
export async function debChangelogSince(log: BuildLog, deb: string, name: string, since: string): Promise<ChangelogEntry[] | undefined> {
  const tmp = await scratchDir('changelog');
  try {
    for (const member of [`usr/share/doc/${name}/changelog.Debian.gz`, `usr/share/doc/${name}/changelog.gz`]) {
      const gz = await extractTo(log, deb, member, path.join(tmp, 'changelog.gz'));
      if (!gz) continue;
      const res = await run(log, 'dpkg-parsechangelog', ['-l', gz, '--format', 'rfc822', '--since', since], { allowFailure: true, logStdout: false, purpose: `reading the changelog of ${name}` });
      if (res.exitCode !== 0) return undefined;
      return parseDeb822(res.stdout).map((s) => ({
        version: s.Version,
        date: s.Date,
        distribution: s.Distribution,
        text: changesText(s.Changes ?? ''),
      }));
    }
    return undefined;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** The body of a Changes field: without its "name (version) distribution; urgency" header, deb822 dots as blank lines. */
function changesText(field: string): string {
  const lines = field.split('\n').map((l) => l.replace(/^ \.?$/, '').replace(/^ /, ''));
  while (lines.length && !lines[0].trim()) lines.shift();
  if (lines.length && /^\S+ \([^)]*\)/.test(lines[0])) lines.shift();
  return lines.join('\n').replace(/^\n+|\s+$/g, '');
}

async function extractTo(log: BuildLog, deb: string, member: string, dest: string): Promise<string | undefined> {
  const res = await run(log, 'bash', ['-o', 'pipefail', '-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO -f - "$2" >"$3"', 'extract', deb, `./${member}`, dest], {
    allowFailure: true,
    purpose: `reading ${member} from ${path.basename(deb)}`,
  });
  return res.exitCode === 0 ? dest : undefined;
}

/**
 * The license a package declares: the License of the `Files: *` paragraph of its
 * machine-readable copyright file (DEP-5), mapped to SPDX. Undefined for free-form
 * copyright files, which declare nothing a program can read reliably.
 */
export async function debDeclaredLicense(log: BuildLog, deb: string, name: string): Promise<DeclaredLicense | undefined> {
  const text = await debMember(log, deb, `usr/share/doc/${name}/copyright`);
  if (!text || !/^Format:\s*\S*copyright-format/m.test(text)) return undefined;
  const paragraphs = parseDeb822(text);
  const main = paragraphs.find((p) => p.Files?.split(/\s+/).includes('*')) ?? paragraphs.find((p) => p.License && !p.Files);
  const license = main?.License?.split('\n')[0].trim();
  if (!license) return undefined;
  return { ...debianLicenseToSpdx(license), declared: license };
}
