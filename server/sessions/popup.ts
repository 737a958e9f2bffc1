// What the hosted popup may do with a session token alone: read its session, finish it with the
// end user's credentials (or none), or cancel it.
import { z } from "zod";
import { badInput, OneRuntimeError } from "../errors.js";
import { validateCredentialValues } from "../connections/credentials.js";
import type { Services } from "../services.js";
import { fieldErrorsOf } from "./create.js";
import { assertOpen, sessionForToken } from "./lifecycle.js";
import { endSession, finishSessionWithConnection } from "./finish.js";

const connectionNameSchema = z.string().trim().max(100).regex(/^[^\u0000-\u001f\u007f]*$/, "no control characters").nullish();

export async function completeHostedConnectionSession(
  services: Services,
  token: string,
  input: { connectionName?: string | null | undefined; credentials?: { key: string; value: string }[] | null | undefined },
) {
  const session = await sessionForToken(services, token);
  assertOpen(session);
  const integration = services.catalog.get(session.integrationSlug);
  if (!integration) throw new OneRuntimeError("NOT_FOUND", "This integration is no longer in the catalog");
  if (integration.authType === "OAUTH2") {
    throw new OneRuntimeError("BAD_USER_INPUT", `${integration.name} connects through OAuth2: start the authorization instead`);
  }
  const name = connectionNameSchema.safeParse(input.connectionName);
  if (!name.success) throw badInput("Invalid connection name", fieldErrorsOf(name.error).map((e) => ({ ...e, field: "connectionName" })));
  const submitted = input.credentials ?? [];
  if (submitted.length > 20) throw badInput("Too many credential values");

  if (integration.authType === "NONE") {
    if (submitted.length) throw badInput(`${integration.name} takes no credentials`, submitted.map((s) => ({ field: s.key, message: "Unknown field" })));
    return finishSessionWithConnection(services, session, integration, { type: "NONE" }, { connectionName: name.data });
  }
  const { values, errors } = validateCredentialValues(integration, submitted);
  if (errors.length) throw badInput("Some values need fixing", errors);
  return finishSessionWithConnection(services, session, integration, { type: integration.authType, values }, { connectionName: name.data });
}

export async function cancelHostedConnectionSession(services: Services, token: string) {
  const session = await sessionForToken(services, token);
  assertOpen(session);
  await endSession(services, session, "CANCELLED", { code: "cancelled", message: "The end user closed the window" });
  return services.prisma.hostedConnectionSession.findUniqueOrThrow({ where: { id: session.id } });
}
