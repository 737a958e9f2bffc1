// The stable error codes as the schema's `enum ErrorCode`. No field returns it: it is published so
// that schema.graphql documents every `extensions.code` and clients generate their code union from
// it instead of copying the list.
import { ERROR_CODES } from "../errors.js";
import { builder } from "./builder.js";

builder.enumType("ErrorCode", {
  description: "Every value a GraphQL error's `extensions.code` may take. Match on the code, never on the message.",
  values: Object.fromEntries(ERROR_CODES.map(({ code, description }) => [code, { description }])),
});
