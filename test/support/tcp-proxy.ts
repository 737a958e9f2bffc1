// A TCP forwarder standing in for a load balancer (in front of instances) or a network between
// an instance and its database: it forwards to a target that can change, and can cut every
// connection, refuse new ones, or accept and never answer (a black hole).
import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export type ProxyMode = "forward" | "refuse" | "blackhole";

export type TcpProxy = {
  port: number;
  url(protocol?: string): string;
  /** Where new connections go from now on. */
  setTarget(port: number, host?: string): void;
  setMode(mode: ProxyMode): void;
  /** Destroys every open connection (both sides). */
  cutAll(): void;
  /** Connections accepted so far, by the target port they went to. */
  readonly accepted: Map<number, number>;
  /** Connections refused so far (in "refuse" mode). */
  readonly refused: number;
  close(): Promise<void>;
};

export async function startTcpProxy(target: { port: number; host?: string }): Promise<TcpProxy> {
  let host = target.host ?? "127.0.0.1";
  let port = target.port;
  let mode: ProxyMode = "forward";
  const open = new Set<Socket>();
  const accepted = new Map<number, number>();
  let refused = 0;
  const track = (s: Socket) => {
    open.add(s);
    s.on("close", () => open.delete(s));
    s.on("error", () => {});
  };
  const server = createServer((client) => {
    track(client);
    if (mode === "refuse") {
      refused++;
      return void client.destroy();
    }
    if (mode === "blackhole") return; // accepted, never answered
    const upstreamPort = port;
    accepted.set(upstreamPort, (accepted.get(upstreamPort) ?? 0) + 1);
    const upstream = connect({ host, port: upstreamPort });
    track(upstream);
    // Either side going away takes the other with it, as a real balancer does with a dead backend.
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const own = (server.address() as AddressInfo).port;
  return {
    port: own,
    url: (protocol = "http") => `${protocol}://127.0.0.1:${own}`,
    setTarget(p, h = "127.0.0.1") {
      port = p;
      host = h;
    },
    setMode(m) {
      mode = m;
    },
    cutAll() {
      for (const s of open) s.destroy();
    },
    accepted,
    get refused() {
      return refused;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
