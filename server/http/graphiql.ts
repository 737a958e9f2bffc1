// GraphiQL with no CDN: yoga's page loads GraphiQL from a CDN (blank behind a firewall or
// offline). We serve @graphql-yoga/render-graphiql's bundled files from our own routes, as
// separate cacheable files rather than one 9 MB inline page.
import { createHash } from "node:crypto";
import { css, editorWorkerService, favicon, graphqlWorker, js, jsonWorker } from "@graphql-yoga/render-graphiql/graphiql";
import type { StaticFile } from "./responses.js";

const boot = `
self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: function (_moduleId, label) {
    return { editorWorkerService: "/graphiql/worker-editor.js", json: "/graphiql/worker-json.js", graphql: "/graphiql/worker-graphql.js" }[label];
  },
};
var options = JSON.parse(document.getElementById("graphiql-options").textContent);
YogaGraphiQL.renderYogaGraphiQL(document.querySelector("#root"), options);
`;

const file = (body: string, type: string): StaticFile => ({ body, type, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"` });

/** GraphiQL's files by name, served under /graphiql/ (the page and the boot script name them there). */
export const graphiqlFiles: Record<string, StaticFile> = {
  "app.js": file(js, "text/javascript; charset=utf-8"),
  "app.css": file(css, "text/css; charset=utf-8"),
  "boot.js": file(boot, "text/javascript; charset=utf-8"),
  "worker-editor.js": file(editorWorkerService, "text/javascript; charset=utf-8"),
  "worker-json.js": file(jsonWorker, "text/javascript; charset=utf-8"),
  "worker-graphql.js": file(graphqlWorker, "text/javascript; charset=utf-8"),
};

export const GRAPHIQL_CSP =
  "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "worker-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const DEFAULT_QUERY = `# Set your API key in the Headers tab below:
#   { "Authorization": "Bearer ort_live_..." }
query Catalog {
  categories { slug name integrationCount }
  integrations(search: "crm", first: 5) {
    totalCount
    nodes { slug name authType categories }
  }
}
`;

export function graphiqlPage(): string {
  const options = {
    title: "One Runtime GraphiQL",
    defaultQuery: DEFAULT_QUERY,
    // No placeholder key: GraphiQL sends these headers with its introspection query too, and a
    // malformed Authorization header is refused (401), which left GraphiQL without a schema.
    headers: "{}",
    subscriptionsProtocol: "WS",
    endpoint: "/graphql",
  };
  // JSON inside a script of type application/json is data, not code; "<" is escaped so no tag can close it.
  const json = JSON.stringify(options).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>One Runtime GraphiQL</title>
<link rel="icon" href="${favicon}">
<link rel="stylesheet" href="/graphiql/app.css">
</head>
<body id="body" class="no-focus-outline">
<noscript>GraphiQL needs JavaScript.</noscript>
<div id="root"></div>
<script id="graphiql-options" type="application/json">${json}</script>
<script src="/graphiql/app.js"></script>
<script src="/graphiql/boot.js"></script>
</body>
</html>`;
}
