// Builds the schema from every domain's file. The printed SDL (schema.graphql) is generated from here.
import { lexicographicSortSchema } from "graphql";
import { builder } from "./builder.js";
import "./catalog.js";
import "./organizations.js";
import "./sessions.js";
import "./connections.js";
import "./oauth-apps.js";
import "./events.js";
import "./webhooks.js";
import "./health.js";
import "./errors.js";

export const schema = lexicographicSortSchema(builder.toSchema());
