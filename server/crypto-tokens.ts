// Random secrets handed out once (API keys, session tokens, OAuth state) and the hash we keep.
import { createHash, randomBytes } from "node:crypto";

/** `bytes` random bytes as base64url: 32 bytes = 256 bits = 43 characters. */
export const randomSecret = (bytes = 32) => randomBytes(bytes).toString("base64url");

/** SHA-256, hex. The only form in which API keys, session tokens and OAuth states are stored. */
export const sha256Hex = (value: string) => createHash("sha256").update(value, "utf8").digest("hex");
