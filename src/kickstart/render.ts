import path from 'node:path';
import { Recipe } from '../recipe/schema';
import { render } from '../util/templates';
import { XcpError } from '../errors';
import { printable } from '../util/text';
import { validateKickstart } from './validate';

/** The root file system size, as the preseed's xcp/root-size default (8G). */
const ROOT_SIZE_MIB = 8192;

/** The package the kickstart installs, pinned: name-version-release. */
export function pinnedFull(recipe: Recipe): string {
  const full = recipe.metapackages['xcp-full'];
  if (!full) throw new XcpError('a kickstart installs xcp-full: the recipe has no xcp-full metapackage', 'invalidInput');
  return `xcp-full-${full.version}-1`;
}

/** A value inside double quotes of a kickstart line: pykickstart splits with shlex, so " and \\ would end or escape it. */
function quotable(what: string, v: string): string {
  if (/["\\\u0000-\u001f]/.test(v)) throw new XcpError(`cannot write ${what} into a kickstart: it contains a double quote, a backslash or a control character (${printable(v)})`, 'invalidInput');
  return v;
}

/** Renders kickstart/appliance.ks.hbs for a fedora recipe and checks it with the validator; throws on any problem. */
export async function renderKickstart(recipe: Recipe, kickstartDir: string): Promise<string> {
  if (!recipe.iso) throw new XcpError('a kickstart needs the recipe\'s iso: section (volume group, command lines, credentials)', 'invalidInput');
  const iso = recipe.iso;
  if (!iso.rootPasswordHash && !iso.sshAuthorizedKeys?.length) {
    throw new XcpError('a kickstart needs credentials: set iso.rootPasswordHash (a crypt(3) hash) or iso.sshAuthorizedKeys in the recipe; there is no default password', 'invalidInput');
  }
  const pinned = pinnedFull(recipe);
  const text = await render(path.join(kickstartDir, 'appliance.ks.hbs'), {
    recipe: recipe.name,
    version: recipe.version,
    fullVersion: pinned.replace(/^xcp-full-/, ''),
    hostname: recipe.name,
    rootSizeMiB: ROOT_SIZE_MIB,
    vg: iso.vmVolumeGroup,
    dom0Cmdline: iso.dom0Cmdline,
    xenCmdline: iso.xenCmdline,
    rootPasswordHash: iso.rootPasswordHash,
    sshKeys: (iso.sshAuthorizedKeys ?? []).map((k, i) => quotable(`iso.sshAuthorizedKeys[${i}]`, k)),
    repoId: recipe.repository.codename,
    packages: [pinned],
  });
  const problems = validateKickstart(text, { vg: iso.vmVolumeGroup, packages: [pinned] });
  if (problems.length) {
    const lines = problems.map((p) => `kickstart line ${p.line}: ${p.message}`);
    throw new XcpError(`the rendered kickstart is not valid: ${lines[0]}`, 'build', lines.slice(1));
  }
  return text;
}
