// A small OAuth2 provider on 127.0.0.1 (node:http) whose endpoints behave like the providers with
// quirks the catalog describes as data: a refresh endpoint of its own, JSON bodies, errors in a
// 200 with `ok: false`, a signed callback, the client credentials grant, hosts chosen by the end
// user, refresh scopes, nested token responses. Each path is `/<name>/<endpoint>`; what an
// endpoint answers is set by the test through `answers`, and every request is recorded.
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";

export type RecordedRequest = {
  path: string;
  contentType: string;
  authorization: string;
  /** The body, parsed from JSON or form encoding. */
  body: Record<string, string>;
};

export type Answer = { status?: number; json: Record<string, unknown> };
/** What an endpoint answers to a request; `undefined` falls back to a plain token response. */
export type Responder = (req: RecordedRequest) => Answer | undefined;

export type QuirkyProvider = {
  url: string;
  requests: RecordedRequest[];
  /** Responders by path (`/name/token`). */
  answers: Map<string, Responder>;
  /** Callback signing for `/name/authorize`: the client secret, or "bad"/"none" to forge. */
  signing: Map<string, { secret: string; mode: "good" | "bad" | "none" }>;
  stop(): Promise<void>;
};

async function readBody(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return {};
  if ((req.headers["content-type"] ?? "").includes("json")) return JSON.parse(text) as Record<string, string>;
  return Object.fromEntries(new URLSearchParams(text));
}

export const tokenResponse = (extra: Record<string, unknown> = {}): Answer => ({
  json: { access_token: `at-${randomBytes(6).toString("hex")}`, token_type: "Bearer", expires_in: 3600, refresh_token: `rt-${randomBytes(6).toString("hex")}`, ...extra },
});

export async function startQuirkyProvider(): Promise<QuirkyProvider> {
  const requests: RecordedRequest[] = [];
  const answers = new Map<string, Responder>();
  const signing = new Map<string, { secret: string; mode: "good" | "bad" | "none" }>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname.endsWith("/authorize")) {
      // Approves at once: back to the redirect URI with a code and the state, signed when asked.
      const back = new URL(url.searchParams.get("redirect_uri")!);
      back.searchParams.set("code", `code-${randomBytes(6).toString("hex")}`);
      back.searchParams.set("state", url.searchParams.get("state") ?? "");
      const sign = signing.get(url.pathname.split("/")[1]!);
      if (sign) {
        back.searchParams.set("shop", "my-store.myshopify.com");
        back.searchParams.set("timestamp", "1337178173");
        // Shopify's `host` is base64 and may end in `=`: the signed message carries it form-encoded.
        back.searchParams.set("host", Buffer.from("admin.shopify.com/store/my").toString("base64"));
        const message = new URLSearchParams([...back.searchParams].sort(([a], [b]) => (a < b ? -1 : 1))).toString();
        const hmac = createHmac("sha256", sign.secret).update(message).digest("hex");
        if (sign.mode === "good") back.searchParams.set("hmac", hmac);
        if (sign.mode === "bad") back.searchParams.set("hmac", hmac.replace(/^./, (c) => (c === "0" ? "1" : "0")));
      }
      res.writeHead(302, { location: back.toString() }).end();
      return;
    }
    readBody(req).then(
      (body) => {
        const recorded: RecordedRequest = { path: url.pathname, contentType: req.headers["content-type"] ?? "", authorization: req.headers.authorization ?? "", body };
        requests.push(recorded);
        const answer = answers.get(url.pathname)?.(recorded) ?? (url.pathname.endsWith("/revoke") ? { json: {} } : tokenResponse());
        res.writeHead(answer.status ?? 200, { "content-type": "application/json" }).end(JSON.stringify(answer.json));
      },
      () => res.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    answers,
    signing,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
