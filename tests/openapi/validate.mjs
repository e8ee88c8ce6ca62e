// Validates an OpenAPI document: `node validate.mjs <file.json>`.
//
// SwaggerParser.validate checks the document against the OpenAPI 3.0/3.1 schema and
// resolves every $ref (a dangling one fails). For OpenAPI 3.x it skips the checks it makes
// on Swagger 2.0 documents, so this script adds them: unique operationIds, and path
// templates whose {params} each operation declares as required path parameters (and no
// others). Prints `openapi: valid, N paths, M operations` and exits 0, or prints every
// problem and exits 1.
import { readFile } from "node:fs/promises";
import SwaggerParser from "@apidevtools/swagger-parser";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

function usage() {
  console.error("usage: node validate.mjs <file.json>");
  process.exit(2);
}

// The checks SwaggerParser leaves out for OpenAPI 3.x, on the dereferenced document.
function extraChecks(api) {
  const problems = [];
  const seen = new Map();
  for (const [path, item] of Object.entries(api.paths ?? {})) {
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (!op.operationId) {
        problems.push(`${where}: no operationId`);
      } else if (seen.has(op.operationId)) {
        problems.push(`${where}: operationId ${op.operationId} is also used by ${seen.get(op.operationId)}`);
      } else {
        seen.set(op.operationId, where);
      }
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      const pathParams = params.filter((p) => p.in === "path");
      for (const name of templated) {
        const p = pathParams.find((q) => q.name === name);
        if (!p) problems.push(`${where}: path parameter {${name}} is not declared`);
        else if (p.required !== true) problems.push(`${where}: path parameter {${name}} must be required`);
      }
      for (const p of pathParams) {
        if (!templated.includes(p.name)) problems.push(`${where}: path parameter ${p.name} is not in the path`);
      }
      if (!op.responses || Object.keys(op.responses).length === 0) {
        problems.push(`${where}: no responses`);
      }
    }
  }
  return problems;
}

async function main() {
  const file = process.argv[2];
  if (!file || process.argv.length > 3) usage();
  let doc;
  try {
    doc = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    console.error(`openapi: cannot read ${file}: ${e.message}`);
    process.exit(1);
  }
  let api;
  try {
    // A copy: validate() dereferences the object it is given.
    api = await SwaggerParser.validate(structuredClone(doc));
  } catch (e) {
    console.error(`openapi: invalid: ${e.message}`);
    process.exit(1);
  }
  const problems = extraChecks(api);
  if (problems.length > 0) {
    console.error(`openapi: invalid: ${problems.length} problem(s)`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  const paths = Object.keys(api.paths ?? {});
  const operations = paths.reduce(
    (n, p) => n + METHODS.filter((m) => api.paths[p][m]).length,
    0,
  );
  console.log(`openapi: valid, ${paths.length} paths, ${operations} operations`);
}

main();
