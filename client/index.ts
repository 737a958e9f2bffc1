// The typed Node client for One Runtime's backend API (authenticated with an API key). One method
// per document in client/operations/, named after the operation, resolving to its result (the
// operation's single root field); failures reject with OneRuntimeError; reads are retried. And
// `proxy()`, which calls a provider's API as one of your connections (client/proxy.ts), and
// `proxyPages()`, which walks a paginated list through it (client/pages.ts).
import { GraphQLClient } from "graphql-request";
import { toOneRuntimeError } from "./errors.js";
import { getSdk, type Sdk, type SdkFunctionWrapper } from "./generated/sdk.js";
import { createProxyPages, type ProxyPage, type ProxyPagesRequest } from "./pages.js";
import { createProxy, queryString, type ProxyRequest, type ProxyResponse } from "./proxy.js";
import { backoffMs, DEFAULT_RETRY_POLICY, isTransient, sleep, type RetryPolicy } from "./retries.js";

export { OneRuntimeError } from "./errors.js";
export type { FieldError, GraphQLErrorBody, OneRuntimeErrorCode, ServerErrorCode, TransportErrorCode } from "./errors.js";
export type { RetryPolicy } from "./retries.js";
export type { ProxyQuery, ProxyRequest, ProxyResponse } from "./proxy.js";
export { ProxyPageError } from "./pages.js";
export type { ProxyNextRequest, ProxyPage, ProxyPagesRequest } from "./pages.js";
export { verifyWebhook, WebhookVerificationError } from "./webhooks.js";
export type { VerifyWebhookInput, WebhookEvent, WebhookEventType } from "./webhooks.js";
// Every operation's result and variables type, and the enums and inputs they use
// (e.g. `ConnectionsQuery`, `CreateHostedConnectionSessionInput`, `AuthType`).
export type * from "./generated/sdk.js";

export type OneRuntimeClientOptions = {
  /** Your organization's API key (`ort_live_…` / `ort_test_…`). Keep it on your backend. */
  apiKey: string | undefined;
  /** Where One Runtime runs, e.g. `https://connect.example.com`; `/graphql` is appended. */
  baseUrl: string | URL;
  /** A fetch to use instead of the global one (a proxy agent, instrumentation, tests). */
  fetch?: typeof fetch;
  /** How long one attempt may take, in ms (default 30 000). */
  timeoutMs?: number;
  /** Retries for queries (never mutations); `{ retries: 0 }` turns them off. */
  retry?: Partial<RetryPolicy>;
};

export type CallOptions = {
  /** Aborts the call, including retries still to come. */
  signal?: AbortSignal;
  /** Extra request headers for this call. */
  headers?: Record<string, string>;
};

/** The name of every operation, and so of every client method. */
export type OperationName = keyof Sdk;
/** What a method resolves to: the operation's single root field. */
export type OperationResult<K extends OperationName> = RootField<Awaited<ReturnType<Sdk[K]>>>;
/** What a method takes: the operation's variables. */
export type OperationVariables<K extends OperationName> = NonNullable<Parameters<Sdk[K]>[0]>;

type RootField<Data> = Data[keyof Data];
type Method<K extends OperationName> =
  undefined extends Parameters<Sdk[K]>[0]
    ? (variables?: OperationVariables<K>, options?: CallOptions) => Promise<OperationResult<K>>
    : (variables: OperationVariables<K>, options?: CallOptions) => Promise<OperationResult<K>>;

export type OneRuntimeClient = { readonly [K in OperationName]: Method<K> } & {
  /** Calls the connection's provider API with the credential added by One Runtime (see client/README.md). */
  readonly proxy: (request: ProxyRequest) => Promise<ProxyResponse>;
  /** Every page of a paginated provider list, following `Link: rel="next"` or your `next` (see client/README.md). */
  readonly proxyPages: <T = unknown>(request: ProxyPagesRequest<T>) => AsyncGenerator<ProxyPage<T>, void, undefined>;
};

const DEFAULT_TIMEOUT_MS = 30_000;

function graphqlEndpoint(baseUrl: string | URL): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`createOneRuntimeClient: baseUrl must be an absolute http(s) URL, got ${JSON.stringify(String(baseUrl))}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`createOneRuntimeClient: baseUrl must be an absolute http(s) URL, got ${JSON.stringify(String(baseUrl))}`);
  }
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith("/graphql") ? path : `${path}/graphql`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

export function createOneRuntimeClient(options: OneRuntimeClientOptions): OneRuntimeClient {
  const apiKey = options.apiKey?.trim();
  if (!apiKey) throw new TypeError("createOneRuntimeClient: apiKey is required (your organization's API key, e.g. process.env.ONE_RUNTIME_API_KEY)");
  const endpoint = graphqlEndpoint(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };

  // Each attempt gets its own deadline, combined with the caller's signal.
  const fetchWithTimeout: typeof fetch = (input, init) => {
    const signals = [AbortSignal.timeout(timeoutMs), ...(init?.signal ? [init.signal] : [])];
    return (options.fetch ?? globalThis.fetch)(input, { ...init, signal: AbortSignal.any(signals) });
  };
  const graphql = new GraphQLClient(endpoint, {
    headers: { authorization: `Bearer ${apiKey}` },
    fetch: fetchWithTimeout,
  });

  const withRetries = (signal: AbortSignal | undefined): SdkFunctionWrapper => async (action, operationName, operationType) => {
    const retries = operationType === "query" ? Math.max(0, policy.retries) : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await action();
      } catch (thrown) {
        const error = toOneRuntimeError(thrown, operationName, signal);
        if (attempt >= retries || !isTransient(error)) throw error;
        await sleep(backoffMs(policy, attempt, error.retryAfterSeconds), signal).catch((reason) => {
          throw toOneRuntimeError(reason, operationName, signal);
        });
      }
    }
  };

  const client: Record<string, (variables?: Record<string, unknown>, options?: CallOptions) => Promise<unknown>> = {};
  for (const name of Object.keys(getSdk(graphql)) as OperationName[]) {
    client[name] = async (variables, { signal, headers } = {}) => {
      // A fresh SDK per call (a dozen closures) so the retry wrapper sees this call's signal.
      const operation = getSdk(graphql, withRetries(signal))[name] as (
        variables: unknown,
        headers?: Record<string, string>,
        signal?: AbortSignal,
      ) => Promise<Record<string, unknown>>;
      const data = await operation(variables, headers, signal);
      return Object.values(data)[0];
    };
  }
  const proxyBase = endpoint.replace(/\/graphql$/, "/proxy/");
  const proxy = createProxy(proxyBase, apiKey, options.fetch ?? globalThis.fetch);
  return Object.assign(client, { proxy, proxyPages: createProxyPages(proxy, queryString) }) as unknown as OneRuntimeClient;
}
