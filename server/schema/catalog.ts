// Catalog: categories, integrations (listed, filtered, searched, paged) and one integration.
import { AUTH_TYPES, endUserClient, signsInAtProvider, type Category, type CredentialField, type IntegrationEntry } from "../catalog/entry-schema.js";
import { builder } from "./builder.js";
import { requireOrganization } from "./context.js";
import { pageType } from "./paging.js";

export const AuthTypeEnum = builder.enumType("AuthType", {
  description: "How an integration authenticates: what the popup asks the end user for.",
  values: AUTH_TYPES,
});

/** A category; `count` when it is counted within a subset (a session's picker), else the whole catalog. */
export const CategoryRef = builder.objectRef<Category & { count?: number }>("Category").implement({
  fields: (t) => ({
    slug: t.exposeString("slug"),
    name: t.exposeString("name"),
    featured: t.exposeBoolean("featured"),
    integrationCount: t.int({ resolve: (c, _, ctx) => c.count ?? ctx.services.catalog.integrationCount(c.slug) }),
  }),
});

const CredentialFieldOptionRef = builder.objectRef<{ value: string; label: string }>("CredentialFieldOption").implement({
  fields: (t) => ({ value: t.exposeString("value"), label: t.exposeString("label") }),
});

export const CredentialFieldRef = builder.objectRef<CredentialField>("CredentialField").implement({
  description: "One value the end user enters to connect (an API key, a subdomain, ...).",
  fields: (t) => ({
    key: t.exposeString("key"),
    label: t.exposeString("label"),
    secret: t.exposeBoolean("secret"),
    optional: t.exposeBoolean("optional"),
    placeholder: t.exposeString("placeholder", { nullable: true }),
    pattern: t.exposeString("pattern", { nullable: true, description: "A regular expression the whole value must match." }),
    helpText: t.exposeString("helpText", { nullable: true }),
    helpUrl: t.exposeString("helpUrl", { nullable: true }),
    defaultValue: t.exposeString("defaultValue", { nullable: true }),
    options: t.field({ type: [CredentialFieldOptionRef], nullable: true, resolve: (f) => f.options ?? null }),
  }),
});

export const IntegrationRef = builder.objectRef<IntegrationEntry>("Integration").implement({
  fields: (t) => ({
    slug: t.exposeString("slug"),
    name: t.exposeString("name"),
    description: t.exposeString("description"),
    categories: t.exposeStringList("categories"),
    authType: t.field({ type: AuthTypeEnum, resolve: (i) => i.authType }),
    logoUrl: t.string({ resolve: (i, _, ctx) => `${ctx.services.publicUrl()}/logos/${i.slug}.svg` }),
    docsUrl: t.exposeString("docsUrl"),
    featured: t.exposeBoolean("featured"),
    keywords: t.exposeStringList("keywords"),
    sandbox: t.exposeBoolean("sandbox", { description: "A development-only integration (the local OAuth2 sandbox)." }),
    verified: t.boolean({
      description: "Whether every fact of this entry (URLs, scopes, key pattern) was checked against the provider's documentation.",
      resolve: (i) => i.unverified.length === 0,
    }),
    connectsAtProvider: t.boolean({
      description: "Whether connecting sends the end user to the provider's site to approve access (OAuth2 authorization code). Otherwise the popup connects with its fields alone (API keys, or an OAuth2 client credentials grant).",
      resolve: (i) => signsInAtProvider(i),
    }),
    credentialFields: t.field({
      type: [CredentialFieldRef],
      description:
        "What the popup asks for: API key and basic entries list their fields; OAuth2 entries list values needed before authorizing, or the end user's own client id and secret for a client credentials grant that takes them.",
      resolve: (i) =>
        i.authType === "OAUTH2" && !endUserClient(i)
          ? (i.oauth2?.userInputs ?? []).map((u) => ({ ...u, secret: false, optional: false }))
          : i.credentialFields,
    }),
  }),
});

export const IntegrationPageRef = pageType("IntegrationPage", IntegrationRef);

builder.queryFields((t) => ({
  categories: t.field({
    type: [CategoryRef],
    description: "Every category, featured first.",
    resolve: (_, __, ctx) => {
      requireOrganization(ctx);
      return ctx.services.catalog.categories;
    },
  }),
  integrations: t.field({
    type: IntegrationPageRef,
    description:
      "The catalog, by name; with `search`, ranked: exact slug or name, prefix, word or keyword, then one-typo matches. `first` defaults to 50, at most 100.",
    args: {
      category: t.arg.string({ required: false }),
      search: t.arg.string({ required: false }),
      authType: t.arg({ type: AuthTypeEnum, required: false }),
      first: t.arg.int({ required: false }),
      after: t.arg.string({ required: false }),
    },
    resolve: (_, args, ctx) => {
      requireOrganization(ctx);
      return ctx.services.catalog.page(args);
    },
  }),
  integration: t.field({
    type: IntegrationRef,
    nullable: true,
    args: { slug: t.arg.string({ required: true }) },
    resolve: (_, { slug }, ctx) => {
      requireOrganization(ctx);
      return ctx.services.catalog.find(slug) ?? null;
    },
  }),
}));
