// LISTEN on a PostgreSQL channel over a connection of its own (a pooled one would be handed to
// other queries), reconnecting after a failure. A notice sent while disconnected is lost; the
// listeners' own polling covers that, so this is a doorbell, never the only way work is found.
import pg from "pg";

const RECONNECT_MS = 1_000;

export async function listenOnPostgres(config: pg.ClientConfig, channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ ...config, connectionTimeoutMillis: 5_000 });
    const again = () => {
      if (stopped || client !== c) return;
      client = undefined;
      retry = setTimeout(() => void connect(), RECONNECT_MS);
      retry.unref();
    };
    client = c;
    c.on("error", again);
    c.on("end", again);
    c.on("notification", (n) => {
      if (n.channel === channel) onPayload(n.payload ?? "");
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch {
      await c.end().catch(() => {});
      again();
    }
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}
