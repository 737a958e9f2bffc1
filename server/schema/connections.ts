// Connections, for the customer backend (API key): list, read (with credentials), delete.
import { deleteConnection, findConnection, listConnections } from "../connections/connections.js";
import { readConnectionCredentials, type CredentialsView } from "../connections/read-credentials.js";
import type { RevocationOutcome } from "../oauth/revoke.js";
import { builder } from "./builder.js";
import { AuthTypeEnum, IntegrationRef } from "./catalog.js";
import { requireOrganization } from "./context.js";
import { pageType } from "./paging.js";
import { EndUserRef } from "./sessions.js";

const ConnectionStatusEnum = builder.enumType("ConnectionStatus", {
  values: {
    ACTIVE: { description: "Usable." },
    NEEDS_REAUTH: { description: "The provider refused our refresh; create a session with `connectionId` to re-authorize." },
    DEGRADED: { description: "The last health check failed for another reason than the credentials (the provider erred or timed out)." },
    REVOKED: { description: "The last health check's request was refused (the credentials were revoked or rotated): re-authorize it." },
  },
});

const CredentialValueRef = builder.objectRef<{ key: string; value: string }>("CredentialValue").implement({
  fields: (t) => ({ key: t.exposeString("key"), value: t.exposeString("value") }),
});

const CredentialsRef = builder.objectRef<CredentialsView>("ConnectionCredentials").implement({
  description: "Secrets: readable only with the organization's API key. OAuth2 access tokens are refreshed first when they expire within 5 minutes.",
  fields: (t) => ({
    authType: t.field({ type: AuthTypeEnum, resolve: (c) => c.authType }),
    values: t.field({ type: [CredentialValueRef], description: "Every field the end user entered (API key and basic).", resolve: (c) => c.values }),
    apiKey: t.exposeString("apiKey", { nullable: true, description: "API key integrations: the first secret field." }),
    username: t.exposeString("username", { nullable: true }),
    password: t.exposeString("password", { nullable: true }),
    accessToken: t.exposeString("accessToken", { nullable: true }),
    tokenType: t.exposeString("tokenType", { nullable: true }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    scopes: t.exposeStringList("scopes"),
  }),
});

const ConnectionRef = builder.prismaObject("Connection", {
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    status: t.field({ type: ConnectionStatusEnum, resolve: (c) => c.status }),
    statusReason: t.exposeString("statusReason", { nullable: true }),
    authType: t.field({ type: AuthTypeEnum, resolve: (c) => c.authType }),
    integrationSlug: t.exposeString("integrationSlug"),
    integration: t.field({
      type: IntegrationRef,
      nullable: true,
      description: "Null when the integration has left the catalog since the connection was made.",
      resolve: (c, _, ctx) => ctx.services.catalog.find(c.integrationSlug) ?? null,
    }),
    endUser: t.field({ type: EndUserRef, resolve: (c) => ({ id: c.endUserId, name: c.endUserName, email: c.endUserEmail }) }),
    scopes: t.exposeStringList("scopes"),
    tokenExpiresAt: t.expose("tokenExpiresAt", { type: "DateTime", nullable: true }),
    lastRefreshedAt: t.expose("lastRefreshedAt", { type: "DateTime", nullable: true }),
    metadata: t.expose("metadata", { type: "JSON", description: "Provider values kept from the flow (e.g. instance_url, realmId)." }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    credentials: t.field({
      type: CredentialsRef,
      resolve: (c, _, ctx) => readConnectionCredentials(ctx.services, requireOrganization(ctx).organizationId, c),
    }),
  }),
});

const ConnectionPageRef = pageType("ConnectionPage", ConnectionRef);

const RevocationRef = builder.objectRef<RevocationOutcome>("TokenRevocation").implement({
  description: "What the provider said when asked to revoke the connection's token (best effort).",
  fields: (t) => ({
    attempted: t.exposeBoolean("attempted", { description: "False when the integration has no revocation endpoint." }),
    succeeded: t.exposeBoolean("succeeded"),
    error: t.exposeString("error", { nullable: true }),
  }),
});

const DeletePayloadRef = builder.objectRef<{ id: string; revocation: RevocationOutcome }>("DeleteConnectionPayload").implement({
  fields: (t) => ({
    id: t.exposeID("id", { description: "The deleted connection's id." }),
    revocation: t.field({ type: RevocationRef, resolve: (p) => p.revocation }),
  }),
});

builder.queryFields((t) => ({
  connection: t.prismaField({
    type: "Connection",
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _, { id }, ctx) => findConnection(ctx.services, requireOrganization(ctx).organizationId, String(id), query),
  }),
  connections: t.field({
    type: ConnectionPageRef,
    description: "Newest first. `first` defaults to 50, at most 100.",
    args: {
      endUserId: t.arg.string(),
      integrationSlug: t.arg.string(),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: (_, args, ctx) => listConnections(ctx.services, requireOrganization(ctx).organizationId, args),
  }),
}));

builder.mutationFields((t) => ({
  deleteConnection: t.field({
    type: DeletePayloadRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => {
      const deleted = await deleteConnection(ctx.services, requireOrganization(ctx).organizationId, String(id));
      return { id: deleted.connection.id, revocation: deleted.revocation };
    },
  }),
}));
