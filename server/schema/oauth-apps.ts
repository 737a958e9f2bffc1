// OAuth2: organizations' own OAuth apps (backend, API key) and the popup's authorization start
// (session token).
import { configureIntegration, findIntegrationConfig, listIntegrationConfigs, redirectUri } from "../oauth/apps.js";
import { startHostedConnectionAuthorization } from "../oauth/authorize.js";
import { builder } from "./builder.js";
import { IntegrationRef } from "./catalog.js";
import { requireOrganization, requireSession } from "./context.js";
import { CredentialValueInput } from "./sessions.js";

const IntegrationConfigRef = builder.prismaObject("IntegrationConfig", {
  description: "An organization's OAuth app for one integration. The client secret is write-only.",
  fields: (t) => ({
    id: t.exposeID("id"),
    integrationSlug: t.exposeString("integrationSlug"),
    oauthClientId: t.exposeString("oauthClientId", { nullable: true }),
    hasClientSecret: t.boolean({ resolve: (c) => c.oauthClientSecretEnc != null }),
    scopes: t.exposeStringList("scopes", { description: "Scopes requested; empty means the catalog's defaults." }),
    enabled: t.exposeBoolean("enabled"),
    redirectUri: t.string({ description: "Register this exact URI at the provider.", resolve: (_, __, ctx) => redirectUri(ctx.services) }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

builder.objectField(IntegrationRef, "configuration", (t) =>
  t.prismaField({
    type: "IntegrationConfig",
    nullable: true,
    description: "Your organization's OAuth app for this integration, if configured (API key only).",
    resolve: (query, integration, _, ctx) => findIntegrationConfig(ctx.services, requireOrganization(ctx).organizationId, integration.slug, query),
  }),
);

const ConfigureInput = builder.inputType("ConfigureIntegrationInput", {
  fields: (t) => ({
    integrationSlug: t.string({ required: true }),
    oauthClientId: t.string({ required: true }),
    oauthClientSecret: t.string({ required: true, description: "Stored encrypted; never readable back." }),
    scopes: t.stringList({ description: "Scopes to request; omit for the catalog's defaults." }),
    enabled: t.boolean(),
  }),
});

const StartInput = builder.inputType("StartHostedConnectionAuthorizationInput", {
  fields: (t) => ({
    connectionName: t.string(),
    userInputs: t.field({
      type: [CredentialValueInput],
      description: "Values the integration needs before authorizing (its credentialFields), e.g. a subdomain.",
    }),
  }),
});

const StartPayloadRef = builder.objectRef<{ authorizationUrl: string }>("StartHostedConnectionAuthorizationPayload").implement({
  fields: (t) => ({ authorizationUrl: t.exposeString("authorizationUrl", { description: "Navigate the popup here." }) }),
});

builder.queryFields((t) => ({
  integrationConfigs: t.prismaField({
    type: ["IntegrationConfig"],
    resolve: (query, _, __, ctx) => listIntegrationConfigs(ctx.services, requireOrganization(ctx).organizationId, query),
  }),
  oauthRedirectUri: t.string({
    description: "The redirect URI to register with every provider: <ONE_RUNTIME_PUBLIC_URL>/oauth/callback.",
    resolve: (_, __, ctx) => {
      requireOrganization(ctx);
      return redirectUri(ctx.services);
    },
  }),
}));

builder.mutationFields((t) => ({
  configureIntegration: t.field({
    type: IntegrationConfigRef,
    args: { input: t.arg({ type: ConfigureInput, required: true }) },
    resolve: (_, { input }, ctx) => configureIntegration(ctx.services, requireOrganization(ctx).organizationId, input),
  }),
  startHostedConnectionAuthorization: t.field({
    type: StartPayloadRef,
    description: "Popup (session token): begin the OAuth2 authorization; moves the session to AUTHORIZING.",
    args: { input: t.arg({ type: StartInput, required: true }) },
    resolve: (_, { input }, ctx) => startHostedConnectionAuthorization(ctx.services, requireSession(ctx), input),
  }),
}));
