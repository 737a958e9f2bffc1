// The credential vault: AES-256-GCM with a key id beside every ciphertext (so keys can rotate)
// and associated data binding each ciphertext to its purpose, organization and row, so a
// ciphertext copied into another row or organization fails to decrypt.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export type VaultBinding = { purpose: "connection-credentials" | "oauth-client-secret" | "oauth-flow"; organizationId: string; rowId: string };
export type Sealed = { ciphertext: string; keyId: string };

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class VaultError extends Error {}

const aad = (b: VaultBinding) => Buffer.from(`one-runtime:v1:${b.purpose}:${b.organizationId}:${b.rowId}`, "utf8");

export class Vault {
  private readonly keys: Map<string, Buffer>;
  readonly currentKeyId: string;

  /** `keys` in order of preference: the first encrypts, all decrypt. */
  constructor(keys: { id: string; key: Buffer }[]) {
    if (!keys.length) throw new VaultError("The vault needs at least one key");
    for (const k of keys) if (k.key.length !== 32) throw new VaultError(`Encryption key ${k.id} must be 32 bytes`);
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    this.currentKeyId = keys[0]!.id;
  }

  seal(value: unknown, binding: VaultBinding): Sealed {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(aad(binding));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    return { ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url"), keyId: this.currentKeyId };
  }

  open<T = unknown>(sealed: Sealed, binding: VaultBinding): T {
    const key = this.keys.get(sealed.keyId);
    if (!key) throw new VaultError(`Encryption key ${sealed.keyId} is not configured`);
    const raw = Buffer.from(sealed.ciphertext, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(aad(binding));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
      return JSON.parse(text) as T;
    } catch {
      throw new VaultError("Ciphertext does not match its key or binding");
    }
  }
}

/** A key's id when none is given: derived from the key, so it is stable and reveals nothing. */
const derivedKeyId = (key: Buffer) => `k${createHash("sha256").update(key).digest("hex").slice(0, 8)}`;

function decodeKey(text: string, where: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (key.length !== 32) throw new VaultError(`${where} is not 32 bytes (base64 or hex)`);
  return key;
}

/**
 * Parses ONE_RUNTIME_ENCRYPTION_KEY: `<key>` or a comma-separated `<id>:<key>` list, newest first
 * (rotation: prepend the new key, keep the old ones until everything is re-encrypted). An id
 * given twice is refused: which of the two keys sealed what could not be told. Messages name
 * positions and ids, never key material.
 */
export function parseEncryptionKeys(value: string): { id: string; key: Buffer }[] {
  const keys = value.split(",").map((part, i) => {
    const m = /^([A-Za-z0-9_-]{1,32}):(.+)$/.exec(part.trim());
    const key = decodeKey(m ? m[2]! : part, m ? `key "${m[1]}"` : `entry ${i + 1}`);
    return { id: m ? m[1]! : derivedKeyId(key), key };
  });
  const seen = new Set<string>();
  for (const { id } of keys) {
    if (seen.has(id)) throw new VaultError(`key id "${id}" is given twice (each key needs its own id, newest first)`);
    seen.add(id);
  }
  return keys;
}

/**
 * The embedded default's key: generated once into the data folder (mode 0600). Fine for a
 * laptop; a deployment sets ONE_RUNTIME_ENCRYPTION_KEY and keeps it out of the database's reach.
 */
export async function loadOrCreateDevKey(dataDir: string): Promise<{ keys: { id: string; key: Buffer }[]; created: boolean }> {
  const file = join(dataDir, "encryption-key");
  const existing = await readFile(file, "utf8").catch(() => undefined);
  if (existing) return { keys: parseEncryptionKeys(existing), created: false };
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  await writeFile(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  return { keys: [{ id: derivedKeyId(key), key }], created: true };
}
