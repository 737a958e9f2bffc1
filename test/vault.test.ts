// The vault on its own: round trips, binding to row and organization, key rotation, tampering.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseEncryptionKeys, Vault, VaultError } from "../server/vault.js";

const binding = { purpose: "connection-credentials" as const, organizationId: "org-1", rowId: "row-1" };

describe("vault", () => {
  const k1 = { id: "k1", key: randomBytes(32) };
  const k2 = { id: "k2", key: randomBytes(32) };

  it("round-trips a value and never leaves it readable in the ciphertext", () => {
    const vault = new Vault([k1]);
    const sealed = vault.seal({ apiKey: "sk-very-secret" }, binding);
    expect(sealed.keyId).toBe("k1");
    expect(Buffer.from(sealed.ciphertext, "base64url").toString("latin1")).not.toContain("sk-very-secret");
    expect(vault.open(sealed, binding)).toEqual({ apiKey: "sk-very-secret" });
  });

  it("refuses a ciphertext moved to another row, organization or purpose", () => {
    const vault = new Vault([k1]);
    const sealed = vault.seal("x", binding);
    expect(() => vault.open(sealed, { ...binding, rowId: "row-2" })).toThrow(VaultError);
    expect(() => vault.open(sealed, { ...binding, organizationId: "org-2" })).toThrow(VaultError);
    expect(() => vault.open(sealed, { ...binding, purpose: "oauth-flow" })).toThrow(VaultError);
  });

  it("detects tampering", () => {
    const vault = new Vault([k1]);
    const sealed = vault.seal("value", binding);
    const raw = Buffer.from(sealed.ciphertext, "base64url");
    raw[raw.length - 1]! ^= 1;
    expect(() => vault.open({ ...sealed, ciphertext: raw.toString("base64url") }, binding)).toThrow(VaultError);
  });

  it("rotates: the newest key encrypts, older keys still decrypt, removed keys fail clearly", () => {
    const old = new Vault([k1]).seal("before rotation", binding);
    const rotated = new Vault([k2, k1]);
    expect(rotated.open(old, binding)).toBe("before rotation");
    expect(rotated.seal("after", binding).keyId).toBe("k2");
    expect(() => new Vault([k2]).open(old, binding)).toThrow(/k1 is not configured/);
  });

  it("parses a bare key or an id:key list, base64 or hex, and rejects short keys", () => {
    const b64 = randomBytes(32).toString("base64");
    const [bare] = parseEncryptionKeys(b64);
    expect(bare!.id).toMatch(/^k[0-9a-f]{8}$/);
    const list = parseEncryptionKeys(`new:${randomBytes(32).toString("hex")},old:${b64}`);
    expect(list.map((k) => k.id)).toEqual(["new", "old"]);
    expect(() => parseEncryptionKeys("c2hvcnQ=")).toThrow(/32 bytes/);
  });
});
