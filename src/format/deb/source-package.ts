import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Recipe } from '../../recipe/schema';
import { PackageBuilder } from '../types';
import { render, TemplateGrant } from '../../util/templates';
import { confine } from '../../util/fsutil';
import { LoadedDescription } from '../../sources/load';
import { stageInstallTree } from '../../sources/stage-tree';
import { controlDescription } from './deb822';
import { debFileName } from './metapackage';
import { rfc2822, treeBytes, normalizeTree } from './tree';

/**
 * Builds a packaging description as a .deb (version-release, Architecture all): the
 * files it lists, conffiles for /etc, copyright and changelog; dpkg-deb with fixed
 * modes, owners and times. Returns the file.
 */
export async function buildDebPackage(builder: PackageBuilder, desc: LoadedDescription, tree: string, recipe: Recipe, epoch: number, outDir: string, workDir: string, templates: TemplateGrant): Promise<string> {
  const tpl = templates.dir('templates/deb/package');
  const root = confine(workDir, desc.name, 'a package name');
  await fs.rm(root, { recursive: true, force: true });
  const entries = await stageInstallTree(desc, tree, root);
  const version = `${desc.version}-${desc.fullRelease}`;
  const common = { name: desc.name, version, maintainer: desc.maintainer, homepage: desc.homepage, recipe: recipe.name, recipeVersion: recipe.version };
  const doc = path.join(root, 'usr/share/doc', desc.name);
  await fs.mkdir(doc, { recursive: true });
  await fs.writeFile(path.join(doc, 'copyright'), await render(path.join(tpl, 'copyright.hbs'), { ...common, year: new Date(epoch * 1000).getUTCFullYear() }));
  const changelog = await render(path.join(tpl, 'changelog.hbs'), { ...common, distribution: recipe.target.release, date: rfc2822(epoch) });
  await fs.writeFile(path.join(doc, 'changelog.Debian.gz'), gzipSync(Buffer.from(changelog), { level: 9 }));
  await fs.mkdir(path.join(root, 'DEBIAN'));
  const conffiles = entries.filter((e) => e.config).map((e) => e.dest);
  if (conffiles.length) await fs.writeFile(path.join(root, 'DEBIAN/conffiles'), conffiles.join('\n') + '\n');
  const control = await render(path.join(tpl, 'control.hbs'), {
    ...common,
    installedSize: Math.ceil((await treeBytes(root)) / 1024),
    depends: desc.depends.deb.join(', '),
    description: controlDescription(desc.summary, desc.description),
  });
  await fs.writeFile(path.join(root, 'DEBIAN/control'), control);
  const executables = new Set(entries.filter((e) => e.kind === 'file' && e.mode === 0o755).map((e) => path.join(root, e.dest)));
  await normalizeTree(root, epoch, (f) => executables.has(f));
  const fileName = debFileName(desc.name, version, 'all');
  const built = confine(path.join(workDir, 'out'), fileName, 'a package file name');
  await fs.mkdir(path.dirname(built), { recursive: true });
  await builder.run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, built], { workDir, env: { SOURCE_DATE_EPOCH: String(epoch) }, purpose: `dpkg-deb building ${desc.name}` });
  const out = confine(outDir, fileName, 'a package file name');
  await fs.copyFile(built, out);
  return out;
}
