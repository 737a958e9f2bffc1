// `npm start`: reads the environment, starts one instance, prints where it is and (on the
// embedded default) a working API key, and shuts down cleanly on SIGTERM/SIGINT.
import { startServer } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { DataDirBusyError } from "./db/data-dir-lock.js";
import { MigrationError } from "./db/migrations.js";
import { DatabaseUnavailableError } from "./db/store.js";
import { CatalogError } from "./catalog/load.js";

const SHUTDOWN_LIMIT_MS = 15_000;

async function main() {
  const config = loadConfig();
  const running = await startServer(config);
  const lines = [
    "",
    `  One Runtime is running at ${running.url}`,
    ...(config.graphiql ? [`  GraphiQL:   ${running.url}/graphql`] : []),
    `  SDK:        ${running.url}/connect.js`,
    `  Store:      ${running.store.kind === "pglite" ? `embedded (${config.dataDir})` : "PostgreSQL"}`,
  ];
  const dev = running.devOrganization;
  if (dev) {
    lines.push(
      `  Organization "${dev.name}" (${dev.organizationId})${dev.created ? " created" : ""}`,
      `  API key:    ${dev.apiKey}`,
      "",
      `  Try:  curl -s ${running.url}/graphql -H 'Authorization: Bearer ${dev.apiKey}' \\`,
      `          -H 'Content-Type: application/json' -d '{"query":"{ integrations(search: \\"crm\\") { totalCount nodes { slug name } } }"}'`,
    );
  } else if (!config.databaseUrl) {
    lines.push("  API keys:   npm run admin -- list-api-keys --org <id> / create-api-key --org <id>");
  }
  process.stdout.write(`${lines.join("\n")}\n\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    running.services.logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      running.services.logger.error({ limitMs: SHUTDOWN_LIMIT_MS }, "shutdown took too long: exiting anyway");
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    force.unref();
    running.close().then(
      () => {
        running.services.logger.info({ durationMs: Date.now() - started }, "shutdown complete");
        process.exit(0);
      },
      (e) => {
        running.services.logger.error({ err: { message: (e as Error).message }, durationMs: Date.now() - started }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/** Refusals whose message already says what is wrong and what to change. */
const EXPLAINED = [ConfigError, CatalogError, DataDirBusyError, MigrationError, DatabaseUnavailableError];

// A refusal is one line on stderr, never a stack: the stack of an unexpected failure only with
// ONE_RUNTIME_LOG_LEVEL=debug (read raw: the configuration itself may be what failed).
main().catch((error) => {
  const e = error instanceof Error ? error : new Error(String(error));
  if (EXPLAINED.some((type) => e instanceof type)) process.stderr.write(`${e.message}\n`);
  else process.stderr.write(`One Runtime failed to start: ${e.message.split("\n")[0]}\n`);
  if (process.env.ONE_RUNTIME_LOG_LEVEL === "debug" && !EXPLAINED.some((type) => e instanceof type)) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
