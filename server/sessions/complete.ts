// What the hosted popup may do with its session (resolved once from its token by the caller):
// finish it with the end user's credentials (or none), cancel it, or report its window closed.
import { signsInAtProvider } from "../catalog/entry-schema.js";
import { badInput } from "../errors.js";
import { validateCredentialValues } from "../connections/credentials.js";
import { connectWithClientCredentials } from "../oauth/client-credentials.js";
import type { HostedConnectionSession } from "../generated/prisma/client.js";
import type { Services } from "../services.js";
import { connectionNameSchema, parseInput } from "../validation.js";
import { endSession, finishSessionWithConnection } from "./finish.js";
import { assertOpen, isTerminal, OPEN_STATUSES } from "./lifecycle.js";
import { chosenIntegration } from "./picker.js";

const MAX_SUBMITTED_VALUES = 20;

/** Finishes an API key, basic, client credentials or no-credential flow; returns the session as it now is (CONNECTED). */
export async function completeHostedConnectionSession(
  services: Services,
  session: HostedConnectionSession,
  input: { connectionName?: string | null | undefined; credentials?: { key: string; value: string }[] | null | undefined },
): Promise<HostedConnectionSession> {
  assertOpen(session);
  const integration = chosenIntegration(services, session);
  if (signsInAtProvider(integration)) throw badInput(`${integration.name} connects through OAuth2: start the authorization instead`);
  const connectionName = parseInput(connectionNameSchema, input.connectionName, "Invalid connection name", "connectionName");
  const submitted = input.credentials ?? [];
  if (submitted.length > MAX_SUBMITTED_VALUES) throw badInput("Too many credential values");

  if (integration.authType === "NONE") {
    if (submitted.length) throw badInput(`${integration.name} takes no credentials`, submitted.map((s) => ({ field: s.key, message: "Unknown field" })));
    return finishSessionWithConnection(services, session, integration, { type: "NONE" }, { connectionName });
  }
  const { values, errors } = validateCredentialValues(integration, submitted);
  if (errors.length) throw badInput("Some values need fixing", errors);
  if (integration.authType === "OAUTH2") {
    const { stored, tokens } = await connectWithClientCredentials(services, session.organizationId, integration, values);
    const tokenExpiresAt = tokens.expiresAt ? new Date(tokens.expiresAt) : null;
    return finishSessionWithConnection(services, session, integration, stored, { connectionName, scopes: tokens.scopes, tokenExpiresAt });
  }
  return finishSessionWithConnection(services, session, integration, { type: integration.authType, values }, { connectionName });
}

/** The end user gave up: CANCELLED, unless another caller ended the session first. */
export async function cancelHostedConnectionSession(services: Services, session: HostedConnectionSession): Promise<HostedConnectionSession> {
  assertOpen(session);
  const cancelled = await endSession(services, session, "CANCELLED", { code: "cancelled", message: "The end user closed the window" });
  // Another caller ended it first: answer with how it ended.
  return cancelled ?? services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: session.id } });
}

/** How long a popup whose page went away has to come back (a reload) before its close counts. */
export const POPUP_CLOSE_GRACE_MS = 3_000;
/** A popup page's id: random, made by the page when it loads (see popup/app/main.ts). */
export const POPUP_PAGE_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
const POPUP_CLOSED = { code: "popup_closed", message: "The end user closed the window" };
const closeCutoff = () => new Date(Date.now() - POPUP_CLOSE_GRACE_MS);

/**
 * A popup page went away (its beacon, naming the page when the popup sends one). A reload sends
 * the same beacon as a close, so the close is only recorded here, and only when it comes from the
 * page that last read the session: an old page's beacon that arrives after its reloaded successor
 * has read the session changes nothing. The close counts once POPUP_CLOSE_GRACE_MS passes without
 * another page reading the session: a timer on this instance checks then, and the sweep
 * (cancelAbandonedPopups) catches what an instance that stopped meanwhile left. An AUTHORIZING
 * session that beacons was left on our page (the popup sends none when it navigates to the
 * provider on purpose), so its close counts too. Finished sessions are left alone.
 */
export async function popupClosed(services: Services, session: HostedConnectionSession, pageId: string | undefined): Promise<void> {
  if (isTerminal(session.status)) return;
  const fromLatestPage = pageId ? { OR: [{ popupPageId: null }, { popupPageId: pageId }] } : {};
  const { count } = await services.prisma.hostedConnectionSession.updateMany({
    where: { id: session.id, status: { in: OPEN_STATUSES }, ...fromLatestPage },
    data: { closeRequestedAt: new Date() },
  });
  if (count !== 1) return;
  setTimeout(() => {
    cancelIfPopupGone(services, session.id).catch((e: Error) =>
      services.logger.warn({ sessionId: session.id, err: { message: e.message } }, "cancelling a closed popup's session failed"),
    );
  }, POPUP_CLOSE_GRACE_MS + 50).unref();
}

/**
 * A popup page read its session (`pageId`: the popup's own reads name their page; the SDK's do
 * not and change nothing): that page is the popup now, so a close reported by an earlier page
 * (a reload) does not count, and only this page's beacon will. One conditional write, only when
 * something changes: the page's first read, or one that follows a close.
 */
export async function sessionReadByPopup(services: Services, session: HostedConnectionSession, pageId: string | null | undefined): Promise<HostedConnectionSession> {
  if (!pageId || !POPUP_PAGE_ID_PATTERN.test(pageId) || isTerminal(session.status)) return session;
  if (session.popupPageId === pageId && !session.closeRequestedAt) return session;
  await services.prisma.hostedConnectionSession.updateMany({
    where: { id: session.id, status: { in: OPEN_STATUSES } },
    data: { popupPageId: pageId, closeRequestedAt: null },
  });
  return { ...session, popupPageId: pageId, closeRequestedAt: null };
}

/** CANCELLED if its popup's close is still pending after the grace (and the session still open). */
async function cancelIfPopupGone(services: Services, sessionId: string): Promise<boolean> {
  const cancelled = await endSession(services, { id: sessionId }, "CANCELLED", POPUP_CLOSED, { closeRequestedAt: { lte: closeCutoff() } });
  return cancelled !== null;
}

/** The sweep: every close still pending past the grace, whichever instance got its beacon. */
export async function cancelAbandonedPopups(services: Services, limit = 500): Promise<number> {
  const due = await services.prisma.hostedConnectionSession.findMany({
    where: { status: { in: OPEN_STATUSES }, closeRequestedAt: { lte: closeCutoff() } },
    select: { id: true },
    take: limit,
  });
  let cancelled = 0;
  for (const s of due) if (await cancelIfPopupGone(services, s.id)) cancelled++;
  return cancelled;
}
