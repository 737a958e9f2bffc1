// What a connection's ciphertext holds, the one way it is sealed and opened (bound to its
// organization and row, so a ciphertext copied to another row does not open), and checking an end
// user's submitted values against the integration's field definitions.
import type { CredentialField, IntegrationEntry } from "../catalog/entry-schema.js";
import type { FieldError } from "../errors.js";
import type { Sealed, Vault } from "../vault.js";

export type OAuth2Tokens = {
  accessToken: string;
  refreshToken: string | null;
  tokenType: string;
  /** ISO time, or null when the provider gave no expiry. */
  expiresAt: string | null;
  scopes: string[];
};

export type StoredCredentials =
  | { type: "API_KEY" | "BASIC"; values: Record<string, string> }
  | { type: "NONE" }
  | {
      type: "OAUTH2";
      tokens: OAuth2Tokens;
      userInputs: Record<string, string>;
      /** Set for the client credentials grant: the token is renewed by asking again, not refreshed. */
      grant?: "client_credentials";
      /** The end user's own client id and secret (and any other field), when the entry takes them. */
      values?: Record<string, string>;
    };

/** Which connection a ciphertext belongs to. */
export type CredentialsOwner = { organizationId: string; id: string };

/** What a connection's ciphertext is bound to: its purpose, organization and row. */
export const credentialsBinding = (owner: CredentialsOwner) => ({ purpose: "connection-credentials" as const, organizationId: owner.organizationId, rowId: owner.id });

export function sealCredentials(vault: Vault, owner: CredentialsOwner, credentials: StoredCredentials): Sealed {
  return vault.seal(credentials, credentialsBinding(owner));
}

/** Opens a connection row's `credentialsEnc` (with its `encryptionKeyId`). */
export function openCredentials(vault: Vault, row: CredentialsOwner & { credentialsEnc: string; encryptionKeyId: string }): StoredCredentials {
  return vault.open<StoredCredentials>({ ciphertext: row.credentialsEnc, keyId: row.encryptionKeyId }, credentialsBinding(row));
}

const MAX_VALUE_LENGTH = 4096;

function checkField(field: CredentialField, value: string | undefined): string | undefined {
  if (value === undefined || value === "") return field.optional ? undefined : `${field.label} is required`;
  if (value.length > MAX_VALUE_LENGTH) return `${field.label} is too long`;
  if (field.options && !field.options.some((o) => o.value === value)) return `Choose one of: ${field.options.map((o) => o.label).join(", ")}`;
  if (field.pattern && !new RegExp(`^(?:${field.pattern})$`, "u").test(value)) {
    return field.placeholder ? `${field.label} doesn't look right (expected something like ${field.placeholder})` : `${field.label} doesn't look right`;
  }
  return undefined;
}

/** Validates submitted values; returns the cleaned values or the list of field errors. */
export function validateCredentialValues(
  integration: IntegrationEntry,
  submitted: { key: string; value: string }[],
): { values: Record<string, string>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const values: Record<string, string> = {};
  const known = new Map(integration.credentialFields.map((f) => [f.key, f]));
  for (const { key, value } of submitted) {
    if (!known.has(key)) errors.push({ field: key, message: "Unknown field" });
    else if (key in values) errors.push({ field: key, message: "Given twice" });
    // Pasted keys often carry a stray space or newline; no credential format starts or ends with one.
    else values[key] = value.trim();
  }
  for (const field of integration.credentialFields) {
    const message = checkField(field, values[field.key]);
    if (message) errors.push({ field: field.key, message });
    if (values[field.key] === "") delete values[field.key];
  }
  return { values, errors };
}
