import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Recipe } from '../../recipe/schema';
import { BuildLog } from '../../util/log';
import { run } from '../../util/proc';
import { render, TemplateGrant } from '../../util/templates';
import { controlDescription } from './deb822';
import { confine } from '../../util/fsutil';
import { MetapackageSpec } from '../metapackages';
import { rfc2822, treeBytes, normalizeTree } from './tree';

export { metapackageSpecs } from '../metapackages';

export function debFileName(name: string, version: string, arch: string): string {
  return `${name}_${version.replace(/^\d+:/, '')}_${arch}.deb`;
}


/** Builds one metapackage .deb with dpkg-deb; file modes, owners and mtimes are fixed for reproducibility. */
export async function buildMetapackage(log: BuildLog, spec: MetapackageSpec, recipe: Recipe, epoch: number, outDir: string, workDir: string, templates: TemplateGrant): Promise<string> {
  const tpl = templates.dir('templates/deb/metapackage');
  const tree = confine(workDir, spec.name, 'a metapackage name');
  const doc = path.join(tree, 'usr/share/doc', spec.name);
  await fs.mkdir(path.join(tree, 'DEBIAN'), { recursive: true });
  await fs.mkdir(doc, { recursive: true });
  const common = { name: spec.name, version: spec.version, maintainer: spec.maintainer, recipe: recipe.name, recipeVersion: recipe.version };
  const copyright = await render(path.join(tpl, 'copyright.hbs'), { ...common, year: new Date(epoch * 1000).getUTCFullYear() });
  const changelog = await render(path.join(tpl, 'changelog.hbs'), {
    ...common,
    distribution: recipe.target.release,
    date: rfc2822(epoch),
    pins: spec.depends.map(([n, v]) => `${n} ${v}`),
  });
  await fs.writeFile(path.join(doc, 'copyright'), copyright);
  // Native version (no Debian revision): the changelog is changelog.gz; zlib writes no name and mtime 0.
  await fs.writeFile(path.join(doc, 'changelog.gz'), gzipSync(Buffer.from(changelog), { level: 9 }));
  const installedSize = Math.ceil((await treeBytes(tree)) / 1024) + 4;
  const control = await render(path.join(tpl, 'control.hbs'), {
    ...common,
    installedSize,
    depends: spec.depends.map(([n, v]) => `${n} (= ${v})`).join(', '),
    description: controlDescription(spec.summary, spec.description),
  });
  await fs.writeFile(path.join(tree, 'DEBIAN/control'), control);
  await normalizeTree(tree, epoch);
  const out = confine(outDir, debFileName(spec.name, spec.version, 'all'), 'a metapackage file name');
  await run(log, 'dpkg-deb', ['--root-owner-group', '-Zxz', '--build', tree, out], {
    env: { SOURCE_DATE_EPOCH: String(epoch) },
    purpose: `dpkg-deb building ${spec.name}`,
  });
  return out;
}
