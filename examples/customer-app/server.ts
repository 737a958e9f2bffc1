// An example customer app: a node:http backend that holds the One Runtime API key, and a page
// where the signed-in user browses the catalog, connects tools through the hosted popup and
// manages their connections. Run: ONE_RUNTIME_URL=… ONE_RUNTIME_API_KEY=… npm run example
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createOneRuntimeClient } from "@one-runtime/client";
import { createApiRoutes, sendJson, type AppUser } from "./api.js";
import { createWebhookInbox, WEBHOOK_PATH } from "./webhooks.js";

export type CustomerAppOptions = {
  /** Where One Runtime runs, as both this backend and the browser reach it. */
  oneRuntimeUrl: string;
  apiKey: string | undefined;
  port?: number;
  host?: string;
  user?: AppUser;
  /** Where errors go (default: stderr). */
  log?: (message: string) => void;
  /**
   * Webhooks to `<app>/webhooks/one-runtime`: `{ secret }` of an endpoint registered beforehand
   * (what a deployed app does, once), or "register": the app creates its endpoint at start and
   * deletes it when it closes (a local demo). Unset: no webhooks; the event feed still shows events.
   */
  webhooks?: { secret: string } | "register";
};

export type CustomerApp = { url: string; close(): Promise<void> };

const DEMO_USER: AppUser = { id: "user-42", name: "Ada Lovelace", email: "ada@example.com" };

const STATIC_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

/** The SDK's origin (and path), with no trailing slash: it goes into the page's import. */
function sdkBaseUrl(raw: string): string {
  const url = new URL(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`ONE_RUNTIME_URL must be http(s), got ${raw}`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

export async function startCustomerApp(options: CustomerAppOptions): Promise<CustomerApp> {
  const baseUrl = sdkBaseUrl(options.oneRuntimeUrl);
  const oneRuntime = createOneRuntimeClient({ apiKey: options.apiKey, baseUrl });
  let webhookSecret = options.webhooks === "register" ? undefined : options.webhooks?.secret;
  const inbox = createWebhookInbox(() => webhookSecret);
  const handleApi = createApiRoutes(oneRuntime, options.user ?? DEMO_USER, options.log, inbox.received);

  const files = new Map<string, { body: string; type: string }>();
  for (const [path, { file, type }] of Object.entries(STATIC_FILES)) {
    const text = await readFile(new URL(`./public/${file}`, import.meta.url), "utf8");
    // The page imports the SDK from One Runtime itself: <ONE_RUNTIME_URL>/connect.js.
    files.set(path, { body: text.replaceAll("{{ONE_RUNTIME_URL}}", baseUrl), type });
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      if (await inbox.handle(req, res, url)) return;
      if (await handleApi(req, res, url)) return;
      const file = req.method === "GET" || req.method === "HEAD" ? files.get(url.pathname) : undefined;
      if (!file) return sendJson(res, 404, { error: { code: "not_found", message: "Not found" } });
      res.writeHead(200, { "content-type": file.type, "cache-control": "no-cache", "x-content-type-options": "nosniff" });
      res.end(req.method === "HEAD" ? undefined : file.body);
    } catch (error) {
      (options.log ?? console.error)(`Unexpected error: ${(error as Error)?.stack ?? error}`);
      if (!res.headersSent) sendJson(res, 500, { error: { code: "internal", message: "Something went wrong" } });
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 3000, options.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;
  let registered: string | undefined;
  if (options.webhooks === "register") {
    try {
      const created = await oneRuntime.createWebhookEndpoint({ url: `${url}${WEBHOOK_PATH}`, description: "Example customer app (registered at start)" });
      registered = created.endpoint.id;
      webhookSecret = created.secret;
    } catch (error) {
      // E.g. a One Runtime that refuses loopback URLs (production): the event feed still works.
      (options.log ?? console.error)(`Webhooks not registered: ${(error as Error).message}`);
    }
  }
  return {
    url,
    close: async () => {
      if (registered) await oneRuntime.deleteWebhookEndpoint({ id: registered }).catch(() => {});
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function main() {
  const { ONE_RUNTIME_URL, ONE_RUNTIME_API_KEY, ONE_RUNTIME_WEBHOOK_SECRET, PORT } = process.env;
  if (!ONE_RUNTIME_URL || !ONE_RUNTIME_API_KEY) {
    console.error("Set ONE_RUNTIME_URL and ONE_RUNTIME_API_KEY, e.g.\n  ONE_RUNTIME_URL=http://127.0.0.1:4000 ONE_RUNTIME_API_KEY=ort_test_… npm run example");
    process.exit(1);
  }
  // Fail at start, not at the first click, when the URL or the key is wrong.
  try {
    const { organization } = await createOneRuntimeClient({ apiKey: ONE_RUNTIME_API_KEY, baseUrl: ONE_RUNTIME_URL }).viewer();
    console.log(`One Runtime at ${ONE_RUNTIME_URL}, organization "${organization.name}"`);
  } catch (error) {
    console.error(`Cannot use One Runtime at ${ONE_RUNTIME_URL}: ${(error as Error).message}`);
    process.exit(1);
  }
  const app = await startCustomerApp({
    oneRuntimeUrl: ONE_RUNTIME_URL,
    apiKey: ONE_RUNTIME_API_KEY,
    port: PORT ? Number(PORT) : 3000,
    webhooks: ONE_RUNTIME_WEBHOOK_SECRET ? { secret: ONE_RUNTIME_WEBHOOK_SECRET } : "register",
  });
  console.log(`Example customer app: ${app.url} (signed in as ${DEMO_USER.name})`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
