// Session tokens: 256 random bits, handed out once, stored only as a SHA-256 hash.
import { randomSecret, sha256Hex } from "../crypto-tokens.js";

export const SESSION_TOKEN_PREFIX = "ort_sess_";
export const SESSION_TOKEN_PATTERN = /^ort_sess_[A-Za-z0-9_-]{43}$/;

export function newSessionToken(): { token: string; hash: string } {
  const token = `${SESSION_TOKEN_PREFIX}${randomSecret(32)}`;
  return { token, hash: sha256Hex(token) };
}

export const hashSessionToken = (token: string) => sha256Hex(token);
