import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { recipeJsonSchema } from '../recipe/schema';

const out = path.resolve(__dirname, '..', '..', 'schema', 'recipe.schema.json');
writeFileSync(out, JSON.stringify(recipeJsonSchema(), null, 2) + '\n');
console.log(`wrote ${out}`);
