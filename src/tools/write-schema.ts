import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { recipeJsonSchema } from '../recipe/schema';
import { PackagingDescription } from '../sources/schema';

const dir = path.resolve(__dirname, '..', '..', 'schema');
const write = (name: string, schema: object) => {
  const out = path.join(dir, name);
  writeFileSync(out, JSON.stringify(schema, null, 2) + '\n');
  console.log(`wrote ${out}`);
};
write('recipe.schema.json', recipeJsonSchema());
write('packaging.schema.json', {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://xcpbuild.invalid/schema/packaging-v1.json',
  title: 'xcpbuild packaging description',
  ...JSON.parse(JSON.stringify(PackagingDescription)),
});
