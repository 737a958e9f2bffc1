// Prints the Pothos schema, sorted, to schema.graphql (`npm run generate`; a test fails on drift).
import { writeFile } from "node:fs/promises";
import { printSchema } from "graphql";
import { schema } from "../server/schema/index.js";

const header = "# Generated from server/schema by `npm run generate`. Do not edit.\n\n";
export const printedSchema = () => header + printSchema(schema) + "\n";

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(new URL("../schema.graphql", import.meta.url), printedSchema());
  console.log("wrote schema.graphql");
}
