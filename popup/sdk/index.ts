// The browser SDK, served as <baseUrl>/connect.js: `createOneRuntime({ baseUrl })` and
// `connections.open({ sessionToken })`. Uses only window.open, WebSocket and fetch.
import type * as Api from "./connect.js";
import { openConnection } from "./open.js";

export const createOneRuntime: typeof Api.createOneRuntime = (options) => {
  const raw = options?.baseUrl;
  let baseUrl: string;
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
    baseUrl = (url.origin + url.pathname).replace(/\/+$/, "");
  } catch {
    throw new TypeError(`createOneRuntime: baseUrl must be an absolute http(s) URL, got ${JSON.stringify(raw)}`);
  }
  return { connections: { open: (openOptions) => openConnection(baseUrl, openOptions) } };
};
