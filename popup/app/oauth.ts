// The OAuth2 step: ask the server for the provider's authorization URL (it moves the session to
// AUTHORIZING and binds state + PKCE to it), then send the popup there. The provider redirects
// to the server's /oauth/callback, which ends the flow; the SDK hears it from its subscription.
import { StartAuthorizationDocument } from "../generated/operations.js";
import { ApiError, type Api, type KeyValue } from "./api.js";

export async function continueToProvider(
  api: Api,
  input: { connectionName: string | null; userInputs: KeyValue[] },
  /** Called right before leaving, so the page does not report its own closing on the way out. */
  beforeLeaving: () => void,
): Promise<void> {
  const data = await api(StartAuthorizationDocument, { input });
  let url: URL;
  try {
    url = new URL(data.startHostedConnectionAuthorization.authorizationUrl);
  } catch {
    throw new ApiError("PROVIDER_ERROR", "The provider's address is not valid");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ApiError("PROVIDER_ERROR", "The provider's address is not valid");
  beforeLeaving();
  location.assign(url.href);
}
