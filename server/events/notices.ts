// The doorbell for new events, heard by every instance: PostgreSQL's NOTIFY on the channel the
// event statement rings (server/events/record.ts), fanned out in process to the event feeds and
// the webhook worker. Listeners also poll, so a lost notice only delays them.
import type { Store } from "../db/store.js";
import { EVENT_CHANNEL, parseNotice } from "./record.js";

export type EventNotice = { organizationId: string; deliveries: number };

export type EventNotices = {
  /** Calls `listener` for every notice until the returned function is called. */
  subscribe(listener: (notice: EventNotice) => void): () => void;
  close(): Promise<void>;
};

export async function listenForEventNotices(store: Pick<Store, "listen">): Promise<EventNotices> {
  const listeners = new Set<(notice: EventNotice) => void>();
  const unlisten = await store.listen(EVENT_CHANNEL, (payload) => {
    const notice = parseNotice(payload);
    if (notice) for (const listener of listeners) listener(notice);
  });
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: unlisten,
  };
}
