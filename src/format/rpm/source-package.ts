import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Recipe } from '../../recipe/schema';
import { render, TemplateGrant } from '../../util/templates';
import { confine } from '../../util/fsutil';
import { LoadedDescription } from '../../sources/load';
import { stageInstallTree } from '../../sources/stage-tree';
import { normalizeTree } from '../deb/tree';
import { changelogDate, rpmFileName } from './metapackage';
import { reproducibleMacros, defineArgs, rpmbuildEnv } from './rpmbuild';
import { PackageBuilder } from '../types';

/**
 * Builds a packaging description as a noarch RPM: the files it lists, laid out by
 * xcpbuild and copied by %install; /etc files are %config(noreplace). Returns the file.
 */
export async function buildRpmPackage(builder: PackageBuilder, desc: LoadedDescription, tree: string, recipe: Recipe, epoch: number, outDir: string, workDir: string, templates: TemplateGrant): Promise<string> {
  const top = confine(workDir, desc.name, 'a package name');
  await fs.rm(top, { recursive: true, force: true });
  for (const d of ['SOURCES', 'SPECS', 'BUILD', 'BUILDROOT']) await fs.mkdir(path.join(top, d), { recursive: true });
  const staged = path.join(top, 'tree');
  const entries = await stageInstallTree(desc, tree, staged);
  const executables = new Set(entries.filter((e) => e.kind === 'file' && e.mode === 0o755).map((e) => path.join(staged, e.dest)));
  await normalizeTree(staged, epoch, (f) => executables.has(f));
  const common = { name: desc.name, version: desc.version, release: desc.fullRelease, maintainer: desc.maintainer, summary: desc.summary, recipe: recipe.name, recipeVersion: recipe.version, pins: [] };
  await fs.writeFile(path.join(top, 'SOURCES/LICENSE'), await render(templates.file('templates/rpm/license', 'LICENSE.hbs'), { ...common, year: new Date(epoch * 1000).getUTCFullYear() }));
  const files = entries.map((e) => (e.config ? `%config(noreplace) ${e.dest}` : e.dest));
  const specFile = path.join(top, 'SPECS', `${desc.name}.spec`);
  await fs.writeFile(
    specFile,
    await render(templates.file('templates/rpm/package', 'package.spec.hbs'), { ...common, homepage: desc.homepage, description: desc.description, requires: desc.depends.rpm, files, changelogDate: changelogDate(epoch) }),
  );
  // Fedora's brp scripts are not Debian's: the tree is already as it should be installed.
  const rpmDir = path.join(workDir, 'out');
  const macros = { ...reproducibleMacros(top, rpmDir), xcp_tree: staged, __os_install_post: '%{nil}' };
  await builder.run('rpmbuild', [...defineArgs(macros), '-bb', specFile], { workDir, env: rpmbuildEnv(epoch), purpose: `rpmbuild ${desc.name}` });
  const fileName = rpmFileName(desc.name, desc.version, desc.fullRelease, 'noarch');
  const out = confine(outDir, fileName, 'a package file name');
  await fs.copyFile(confine(rpmDir, fileName, 'a package file name'), out);
  return out;
}
