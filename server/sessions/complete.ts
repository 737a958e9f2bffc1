// What the hosted popup may do with its session (resolved once from its token by the caller):
// finish it with the end user's credentials (or none), or cancel it.
import { badInput } from "../errors.js";
import { validateCredentialValues } from "../connections/credentials.js";
import type { HostedConnectionSession } from "../generated/prisma/client.js";
import type { Services } from "../services.js";
import { connectionNameSchema, parseInput } from "../validation.js";
import { endSession, finishSessionWithConnection } from "./finish.js";
import { assertOpen, isTerminal } from "./lifecycle.js";

const MAX_SUBMITTED_VALUES = 20;

/** Finishes an API key, basic or no-credential flow; returns the session as it now is (CONNECTED). */
export async function completeHostedConnectionSession(
  services: Services,
  session: HostedConnectionSession,
  input: { connectionName?: string | null | undefined; credentials?: { key: string; value: string }[] | null | undefined },
): Promise<HostedConnectionSession> {
  assertOpen(session);
  const integration = services.catalog.require(session.integrationSlug);
  if (integration.authType === "OAUTH2") throw badInput(`${integration.name} connects through OAuth2: start the authorization instead`);
  const connectionName = parseInput(connectionNameSchema, input.connectionName, "Invalid connection name", "connectionName");
  const submitted = input.credentials ?? [];
  if (submitted.length > MAX_SUBMITTED_VALUES) throw badInput("Too many credential values");

  if (integration.authType === "NONE") {
    if (submitted.length) throw badInput(`${integration.name} takes no credentials`, submitted.map((s) => ({ field: s.key, message: "Unknown field" })));
    return finishSessionWithConnection(services, session, integration, { type: "NONE" }, { connectionName });
  }
  const { values, errors } = validateCredentialValues(integration, submitted);
  if (errors.length) throw badInput("Some values need fixing", errors);
  return finishSessionWithConnection(services, session, integration, { type: integration.authType, values }, { connectionName });
}

/** The end user gave up: CANCELLED, unless another caller ended the session first. */
export async function cancelHostedConnectionSession(services: Services, session: HostedConnectionSession): Promise<HostedConnectionSession> {
  assertOpen(session);
  const cancelled = await endSession(services, session, "CANCELLED", { code: "cancelled", message: "The end user closed the window" });
  // Another caller ended it first: answer with how it ended.
  return cancelled ?? services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: session.id } });
}

/**
 * The popup window closed (its beacon). An AUTHORIZING session that beacons was left on our page
 * (the popup sends none when it navigates to the provider on purpose), so cancelling it is right
 * too. Finished sessions are left alone.
 */
export async function popupClosed(services: Services, session: HostedConnectionSession): Promise<void> {
  if (isTerminal(session.status)) return;
  await endSession(services, session, "CANCELLED", { code: "popup_closed", message: "The end user closed the window" });
}
