// Generate src/schema.ts, the TypeScript types of the report document, from the JSON schema the
// Python package ships (deepsearch_nb/schemas/report.v1.schema.json, the one source of the format).
//
//   node scripts/schema-types.mjs          write src/schema.ts
//   node scripts/schema-types.mjs --check  fail if src/schema.ts is not what the schema gives
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { compile } from 'json-schema-to-typescript';
import { format, resolveConfig } from 'prettier';

const here = dirname(fileURLToPath(import.meta.url));
const SCHEMA = resolve(here, '../../deepsearch_nb/schemas/report.v1.schema.json');
const OUTPUT = resolve(here, '../src/schema.ts');
const SCHEMA_PATH = 'deepsearch_nb/schemas/report.v1.schema.json';
const ROOT_ID = 'urn:deepsearch-nb:report:v1';

// Names for the types in code. The schema's own root title is a sentence for its readers and its
// nested objects have none, so the generator is given these titles on its copy of the schema.
const NAMES = {
  '': 'ReportDocumentV1',
  '/properties/sources/items': 'ReportSourceV1',
  '/properties/hitl/items': 'HitlExchangeV1',
  '/properties/timings': 'TimingsV1',
  '/properties/agent': 'AgentV1'
};

/** The node at a JSON pointer made of plain names (no escapes needed here). */
function at(schema, pointer) {
  let node = schema;
  for (const part of pointer.split('/').slice(1)) {
    node = node?.[part];
  }
  if (typeof node !== 'object' || node === null) {
    throw new Error(`${SCHEMA_PATH}: nothing at ${pointer} to name ${NAMES[pointer]}`);
  }
  return node;
}

async function generate() {
  const schema = JSON.parse(readFileSync(SCHEMA, 'utf-8'));
  if (schema.$id !== ROOT_ID) {
    throw new Error(`${SCHEMA_PATH}: $id is ${JSON.stringify(schema.$id)}, expected ${ROOT_ID}`);
  }
  for (const [pointer, name] of Object.entries(NAMES)) {
    at(schema, pointer).title = name;
  }
  const banner = [
    '/**',
    ` * The report document's types, generated from ${SCHEMA_PATH}`,
    ' * by scripts/schema-types.mjs: do not edit. After changing the schema run `jlpm schema:types`;',
    ' * `jlpm schema:check` (in `jlpm check` and `make check`) fails while this file is stale.',
    ' */'
  ].join('\n');
  const types = await compile(schema, NAMES[''], { bannerComment: banner, format: false });
  const style = await resolveConfig(OUTPUT);
  return format(types, { ...style, filepath: OUTPUT });
}

const text = await generate();
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(OUTPUT, 'utf-8');
  } catch {
    // a missing file is stale too
  }
  if (committed !== text) {
    process.stderr.write(
      `${relative(process.cwd(), OUTPUT)} is not what ${relative(process.cwd(), SCHEMA)} gives: run \`jlpm schema:types\`\n`
    );
    process.exit(1);
  }
} else {
  writeFileSync(OUTPUT, text);
}
