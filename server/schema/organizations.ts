// The caller's own organization.
import { requireOrganization } from "./context.js";
import { builder } from "./builder.js";

const OrganizationRef = builder.objectRef<{ id: string; name: string }>("Organization").implement({
  fields: (t) => ({ id: t.exposeID("id"), name: t.exposeString("name") }),
});

const ViewerRef = builder.objectRef<{ organization: { id: string; name: string } }>("Viewer").implement({
  fields: (t) => ({ organization: t.field({ type: OrganizationRef, resolve: (v) => v.organization }) }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    resolve: (_, __, ctx) => {
      const org = requireOrganization(ctx);
      return { organization: { id: org.organizationId, name: org.organizationName } };
    },
  }),
}));
