import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Recipe } from '../../recipe/schema';
import { BuildLog } from '../../util/log';
import { render, TemplateGrant } from '../../util/templates';
import { confine } from '../../util/fsutil';
import { MetapackageSpec } from '../metapackages';
import { reproducibleMacros, rpmbuildBinary } from './rpmbuild';

/** A metapackage's RPM release: the recipe's version is the Version, built once. */
export const META_RELEASE = '1';

export function rpmFileName(name: string, version: string, release: string, arch: string): string {
  return `${name}-${version}-${release}.${arch}.rpm`;
}

/** `name = [epoch:]version-release`: another metapackage of the recipe is at its version-META_RELEASE. */
export function exactRequires(spec: MetapackageSpec, recipe: Recipe): string[] {
  return spec.depends.map(([n, v]) => `${n} = ${recipe.metapackages[n] ? `${v}-${META_RELEASE}` : v}`);
}

export function changelogDate(epoch: number): string {
  const d = new Date(epoch * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()}`;
}

/** Builds one metapackage as a noarch RPM from templates/rpm/metapackage/metapackage.spec.hbs; returns its path. */
export async function buildRpmMetapackage(log: BuildLog, spec: MetapackageSpec, recipe: Recipe, epoch: number, outDir: string, workDir: string, templates: TemplateGrant): Promise<string> {
  const tpl = templates.dir('templates/rpm/metapackage');
  const top = confine(workDir, spec.name, 'a metapackage name');
  for (const d of ['SOURCES', 'SPECS', 'BUILD', 'BUILDROOT']) await fs.mkdir(path.join(top, d), { recursive: true });
  const requires = exactRequires(spec, recipe);
  const common = { name: spec.name, version: spec.version, release: META_RELEASE, maintainer: spec.maintainer, summary: spec.summary, recipe: recipe.name, recipeVersion: recipe.version, pins: requires };
  await fs.writeFile(path.join(top, 'SOURCES/README'), await render(path.join(tpl, 'README.hbs'), common));
  await fs.writeFile(path.join(top, 'SOURCES/LICENSE'), await render(templates.file('templates/rpm/license', 'LICENSE.hbs'), { ...common, year: new Date(epoch * 1000).getUTCFullYear() }));
  const specFile = path.join(top, 'SPECS', `${spec.name}.spec`);
  await fs.writeFile(
    specFile,
    await render(path.join(tpl, 'metapackage.spec.hbs'), { ...common, url: recipe.repository.url, description: spec.description, requires, changelogDate: changelogDate(epoch) }),
  );
  await rpmbuildBinary(log, specFile, reproducibleMacros(top, outDir), epoch, `rpmbuild ${spec.name}`);
  return confine(outDir, rpmFileName(spec.name, spec.version, META_RELEASE, 'noarch'), 'a metapackage file name');
}
