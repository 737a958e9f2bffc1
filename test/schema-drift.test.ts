// schema.graphql is generated (`npm run generate`) and committed: codegen and customers read it.
// It must be exactly what the Pothos schema prints today.
import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { printedSchema } from "../scripts/print-schema.js";

it("schema.graphql equals what scripts/print-schema.ts prints (run `npm run generate` after a schema change)", async () => {
  const committed = await readFile(new URL("../schema.graphql", import.meta.url), "utf8");
  expect(committed).toBe(printedSchema());
});
