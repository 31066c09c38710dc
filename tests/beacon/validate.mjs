// Validates Beacon v2 responses against the official Beacon v2 framework schemas with ajv.
//
//   node validate.mjs SCHEMA_ROOT RESPONSES_DIR
//
// SCHEMA_ROOT is the framework's json/ directory (a copy of ga4gh-beacon/beacon-v2, see
// ../../../shared/fixtures/PROVENANCE.md). RESPONSES_DIR holds one file per response, named
// NAME.SCHEMA.json where SCHEMA is the response schema's file name without .json (e.g.
// g_variants-count.beaconCountResponse.json). Every schema file is loaded with its file URL as
// $id so that the schemas' relative $refs resolve. Exits 0 when every response is valid,
// 1 otherwise (each error printed), 2 on usage errors.
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [root, dir] = process.argv.slice(2);
if (!root || !dir) {
  console.error("usage: node validate.mjs SCHEMA_ROOT RESPONSES_DIR");
  process.exit(2);
}

function* files(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) {
      if (name !== "examples" && name !== "examples-fullDocuments" && name !== "examples-sections") {
        yield* files(p);
      }
    } else if (name.endsWith(".json")) {
      yield p;
    }
  }
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const byName = new Map();
for (const p of files(resolve(root))) {
  const schema = JSON.parse(readFileSync(p, "utf8"));
  delete schema.$schema;  // some files name draft-07; all are read as 2020-12
  schema.$id = pathToFileURL(p).href;
  ajv.addSchema(schema);
  byName.set(p.split("/").pop().replace(/\.json$/, ""), schema.$id);
}

let failed = 0;
let checked = 0;
for (const name of readdirSync(dir).sort()) {
  const parts = name.split(".");
  if (parts.length < 3 || parts.at(-1) !== "json") continue;
  const schemaName = parts.at(-2);
  const id = byName.get(schemaName);
  if (!id) {
    console.error(`${name}: no schema named ${schemaName}`);
    failed++;
    continue;
  }
  const validate = ajv.getSchema(id);
  const doc = JSON.parse(readFileSync(join(dir, name), "utf8"));
  checked++;
  if (!validate(doc)) {
    failed++;
    console.error(`${name}: INVALID against ${schemaName}`);
    for (const e of validate.errors) console.error(`  ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  } else {
    console.log(`${name}: valid against ${schemaName}`);
  }
}
console.log(`${checked} responses checked, ${failed} invalid`);
process.exit(failed === 0 && checked > 0 ? 0 : 1);
