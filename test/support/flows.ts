// One hosted connection flow as a customer's page runs it, over the public API only: the backend
// creates a session with its API key, the SDK watches it over graphql-ws (the session token in
// connection_init, the SDK's own operation), the popup reads the session and submits the end
// user's API key, and the SDK hears CONNECTED. Each step may go to a different instance. Used by
// the benchmarks (timings, flows/s, round trips) and wherever a finished API-key flow is needed.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { CompleteSessionDocument, ReadSessionDocument, WatchSessionDocument } from "../../popup/generated/operations.js";
import { createSession, gql } from "./instances.js";

/** A well-formed OpenAI key: the `openai` catalog entry's pattern accepts it. */
export const OPENAI_TEST_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";

export const wsUrl = (baseUrl: string) => `${baseUrl.replace(/^http/, "ws")}/graphql`;

/** A hang detector, not a speed limit: a flow that neither ends nor fails by then is reported as failed. */
export const FLOW_DEADLINE_MS = 120_000;

export type FlowStep = "created" | "read" | "watching" | "connected";

export type FlowResult = {
  sessionToken: string;
  connectionId: string;
  /** Session created → CONNECTED at the subscriber. */
  totalMs: number;
  /** The popup's submission sent → CONNECTED at the subscriber. */
  sendToEventMs: number;
  /** The submission's answer received → CONNECTED at the subscriber; negative when the event came first. */
  answerToEventMs: number;
};

export type FlowOptions = {
  apiKey: string;
  endUserId: string;
  /** Where the backend creates the session. */
  createOn: string;
  /** Where the SDK subscribes (default: createOn). */
  watchOn?: string;
  /** Where the popup reads and submits (default: createOn). */
  submitOn?: string;
  /** Whether the popup reads the session before submitting, as the real popup does on load (default true). */
  readSession?: boolean;
  /**
   * Called after each step, in order, for callers that measure what each step costs: "connected"
   * once the SDK has CONNECTED and the popup has its answer.
   */
  onStep?: (step: FlowStep) => void;
};

/**
 * Runs one API-key flow (integration `openai`): create → popup reads → SDK subscribes (first
 * event PENDING) → popup submits → SDK gets CONNECTED. Rejects on any GraphQL error, a
 * subscription that ends without CONNECTED, or FLOW_DEADLINE_MS.
 */
export async function connectFlow(opts: FlowOptions): Promise<FlowResult> {
  const watchOn = opts.watchOn ?? opts.createOn;
  const submitOn = opts.submitOn ?? opts.createOn;
  const started = performance.now();
  const { sessionToken } = await createSession(opts.createOn, opts.apiKey, { integrationSlug: "openai", endUserId: opts.endUserId });
  opts.onStep?.("created");
  if (opts.readSession ?? true) {
    const read = await gql(submitOn, ReadSessionDocument, {}, sessionToken);
    if (read.errors || read.status !== 200) throw new Error(`the popup's readSession failed (${read.status}): ${JSON.stringify(read.errors)}`);
    opts.onStep?.("read");
  }
  const client = createClient({
    url: wsUrl(watchOn),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${sessionToken}` },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<FlowResult>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no CONNECTED within ${FLOW_DEADLINE_MS / 1000} s`)), FLOW_DEADLINE_MS);
      let sentAt = 0;
      let answeredAt = 0;
      let connectedAt = 0;
      let connectionId = "";
      const settle = () => {
        if (!answeredAt || !connectedAt) return;
        opts.onStep?.("connected");
        resolve({
          sessionToken,
          connectionId,
          totalMs: connectedAt - started,
          sendToEventMs: connectedAt - sentAt,
          answerToEventMs: connectedAt - answeredAt,
        });
      };
      const submit = () => {
        sentAt = performance.now();
        gql(submitOn, CompleteSessionDocument, { input: { credentials: [{ key: "apiKey", value: OPENAI_TEST_KEY }] } }, sessionToken).then((r) => {
          answeredAt = performance.now();
          if (r.errors || r.status !== 200) return reject(new Error(`completeHostedConnectionSession failed (${r.status}): ${JSON.stringify(r.errors)}`));
          settle();
        }, reject);
      };
      client.subscribe(
        { query: WatchSessionDocument },
        {
          next: (v) => {
            if (v.errors) return reject(new Error(`the SDK's subscription failed: ${JSON.stringify(v.errors)}`));
            const session = (v.data as { hostedConnectionSession?: { status: string; connectionId: string | null } }).hostedConnectionSession;
            if (session?.status === "PENDING" && !sentAt) {
              opts.onStep?.("watching");
              submit();
            } else if (session?.status === "CONNECTED" && !connectedAt) {
              connectedAt = performance.now();
              connectionId = session.connectionId ?? "";
              settle();
            } else if (session?.status !== "PENDING") {
              reject(new Error(`unexpected session status ${session?.status}`));
            }
          },
          error: (e) => reject(e instanceof Error ? e : new Error(`the SDK's subscription failed: ${JSON.stringify(e)}`)),
          complete: () => {
            if (!connectedAt) reject(new Error("the subscription completed without CONNECTED"));
          },
        },
      );
    });
  } finally {
    clearTimeout(timer);
    await client.dispose();
  }
}
