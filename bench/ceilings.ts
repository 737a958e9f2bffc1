// The two ceilings every HTTP figure is compared with, measured in the same run: a bare node:http
// server and a bare graphql-yoga server answering the same bytes from memory (ceiling-server.ts),
// each in a child process like the server under test.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "../test/support/server-build.js";
import type { Answers } from "./ceiling-server.js";

export type Ceiling = { kind: "node-http" | "yoga"; url: string; stop(): Promise<void> };

const START_LIMIT_MS = 60_000;

/** One ceiling on an answers file; the node:http one also stands in for a provider API (proxy-overhead.ts). */
export function spawnCeiling(kind: Ceiling["kind"], answersFile: string): Promise<Ceiling> {
  const proc: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "bench/ceiling-server.ts"), kind, answersFile], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`the ${kind} ceiling did not start within ${START_LIMIT_MS / 1000} s: ${output}`));
    }, START_LIMIT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening (\d+)/.exec(output);
      if (!m) return;
      clearTimeout(timer);
      const exited = new Promise<void>((r) => proc.once("exit", () => r()));
      resolve({
        kind,
        url: `http://127.0.0.1:${m[1]}`,
        async stop() {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
          await exited;
        },
      });
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${kind} ceiling exited (${code}): ${output}`));
    });
  });
}

/** Starts both ceilings on the answers One Runtime gave (written to `dir`). */
export async function startCeilings(dir: string, answers: Omit<Answers, "schemaFile">): Promise<{ nodeHttp: Ceiling; yoga: Ceiling; stop(): Promise<void> }> {
  const file = join(dir, "ceiling-answers.json");
  await writeFile(file, JSON.stringify({ ...answers, schemaFile: join(repoRoot, "schema.graphql") } satisfies Answers));
  const [nodeHttp, yoga] = await Promise.all([spawnCeiling("node-http", file), spawnCeiling("yoga", file)]);
  return { nodeHttp, yoga, stop: async () => void (await Promise.all([nodeHttp.stop(), yoga.stop()])) };
}
