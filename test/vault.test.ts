// The vault on its own: round trips, binding to row and organization, key rotation, tampering.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../server/errors.js";
import { parseEncryptionKeys, Vault, type OpenFailure } from "../server/vault.js";

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

  it("refuses a ciphertext moved to another row, organization or purpose: CREDENTIALS_UNREADABLE, reported", () => {
    const failures: OpenFailure[] = [];
    const vault = new Vault([k1], { onOpenFailure: (f) => failures.push(f) });
    const sealed = vault.seal("x", binding);
    for (const moved of [{ ...binding, rowId: "row-2" }, { ...binding, organizationId: "org-2" }, { ...binding, purpose: "oauth-flow" as const }]) {
      expect(() => vault.open(sealed, moved)).toThrow(expect.objectContaining({ code: "CREDENTIALS_UNREADABLE" }));
    }
    expect(failures).toEqual([
      { ...binding, rowId: "row-2", keyId: "k1", reason: "integrity" },
      { ...binding, organizationId: "org-2", keyId: "k1", reason: "integrity" },
      { ...binding, purpose: "oauth-flow", keyId: "k1", reason: "integrity" },
    ]);
  });

  it("detects tampering, truncation and garbage alike", () => {
    const vault = new Vault([k1]);
    const sealed = vault.seal("value", binding);
    const raw = Buffer.from(sealed.ciphertext, "base64url");
    raw[raw.length - 1]! ^= 1;
    for (const ciphertext of [raw.toString("base64url"), sealed.ciphertext.slice(0, 20), "", "!!not base64!!"]) {
      expect(() => vault.open({ ...sealed, ciphertext }, binding)).toThrow(ServiceError);
      expect(vault.tryOpen({ ...sealed, ciphertext }, binding)).toEqual({ ok: false, reason: "integrity" });
    }
  });

  it("gives each key a check value that differs between keys and ids and does not contain the key", () => {
    const vault = new Vault([k1, k2]);
    const other = new Vault([{ id: "k1", key: randomBytes(32) }]);
    expect(vault.fingerprint("k1")).toBe(new Vault([k1]).fingerprint("k1"));
    expect(vault.fingerprint("k1")).not.toBe(other.fingerprint("k1"));
    expect(vault.fingerprint("k1")).not.toBe(new Vault([{ id: "k9", key: k1.key }]).fingerprint("k9"));
    expect(vault.fingerprint("k1")).not.toContain(k1.key.toString("base64url").slice(0, 8));
  });

  it("rotates: the newest key encrypts, older keys still decrypt, removed keys fail clearly", () => {
    const old = new Vault([k1]).seal("before rotation", binding);
    const rotated = new Vault([k2, k1]);
    expect(rotated.open(old, binding)).toBe("before rotation");
    expect(rotated.seal("after", binding).keyId).toBe("k2");
    expect(() => new Vault([k2]).open(old, binding)).toThrow(/encrypted with key k1, which this server does not have/);
  });

  it("parses a bare key or an id:key list, base64 or hex, and rejects short keys", () => {
    const b64 = randomBytes(32).toString("base64");
    const [bare] = parseEncryptionKeys(b64);
    expect(bare!.id).toMatch(/^k[0-9a-f]{8}$/);
    const list = parseEncryptionKeys(`new:${randomBytes(32).toString("hex")},old:${b64}`);
    expect(list.map((k) => k.id)).toEqual(["new", "old"]);
    expect(() => parseEncryptionKeys("c2hvcnQ=")).toThrow(/32 bytes/);
  });

  it("refuses a key id given twice, whichever key comes first", () => {
    const a = randomBytes(32).toString("base64");
    const b = randomBytes(32).toString("base64");
    expect(() => parseEncryptionKeys(`k1:${a},k1:${b}`)).toThrow(/key id "k1" is given twice/);
    expect(() => parseEncryptionKeys(`${a},${a}`)).toThrow(/is given twice/);
    expect(() => parseEncryptionKeys(`k1:${a},k2:${b}`)).not.toThrow();
  });
});
