// A ceiling, run as its own process like the server under test: answers the bench's requests with
// the very bytes One Runtime gave, from memory, so the difference is what One Runtime adds.
//   node --import tsx bench/ceiling-server.ts node-http|yoga <answers.json>
// node-http: a bare node:http server that reads each request body and writes the stored answer.
// yoga: a bare graphql-yoga server on the published schema (schema.graphql), no plugins, whose
// resolvers return the stored data: the same query shapes executed, the same JSON out.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createSchema, createYoga } from "graphql-yoga";

export type StoredAnswer = { status: number; contentType: string; body: string };
export type Answers = {
  /** POST /graphql: request body → answer. */
  graphql: { request: string; answer: StoredAnswer }[];
  /** GET paths → answer. */
  get: Record<string, StoredAnswer>;
  /** Where the published schema is (the yoga ceiling executes against it). */
  schemaFile: string;
};

function bareNodeHttp(answers: Answers) {
  const byBody = new Map(answers.graphql.map((g) => [g.request, g.answer]));
  const send = (res: ServerResponse, a: StoredAnswer | undefined) => {
    if (!a) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(a.status, { "content-type": a.contentType, "content-length": Buffer.byteLength(a.body) });
    res.end(a.body);
  };
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "GET") return send(res, answers.get[req.url ?? ""]);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => send(res, byBody.get(Buffer.concat(chunks).toString())));
  });
}

function bareYoga(answers: Answers) {
  // Each stored answer's top-level fields become Query resolvers returning that data as it was.
  const data: Record<string, unknown> = {};
  for (const g of answers.graphql) Object.assign(data, (JSON.parse(g.answer.body) as { data?: Record<string, unknown> }).data ?? {});
  delete data.__typename;
  const Query = Object.fromEntries(Object.entries(data).map(([field, value]) => [field, () => value]));
  const yoga = createYoga({ schema: createSchema({ typeDefs: readFileSync(answers.schemaFile, "utf8"), resolvers: { Query } }), logging: false });
  return createServer(yoga);
}

const [kind, answersFile] = process.argv.slice(2);
const answers = JSON.parse(readFileSync(answersFile!, "utf8")) as Answers;
const server = kind === "yoga" ? bareYoga(answers) : bareNodeHttp(answers);
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
