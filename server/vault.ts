// The credential vault: AES-256-GCM with a key id beside every ciphertext (so keys can rotate)
// and associated data binding each ciphertext to its purpose, organization and row, so a
// ciphertext copied into another row or organization fails to decrypt. A ciphertext that does
// not open is a typed failure (CREDENTIALS_UNREADABLE), reported to the operator once, here.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ServiceError } from "./errors.js";

export type VaultBinding = { purpose: "connection-credentials" | "oauth-client-secret" | "oauth-flow" | "webhook-secret"; organizationId: string; rowId: string };
export type Sealed = { ciphertext: string; keyId: string };
/** Why a ciphertext did not open: its key is not configured, or it fails authentication (altered, moved, or another key under that id). */
export type OpenFailureReason = "key-not-configured" | "integrity";
/** What the operator is told about a ciphertext that did not open: where it is, never what it holds. */
export type OpenFailure = VaultBinding & { keyId: string; reason: OpenFailureReason };
export type OpenResult<T> = { ok: true; value: T } | { ok: false; reason: OpenFailureReason };

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class VaultError extends Error {}

const aad = (b: VaultBinding) => Buffer.from(`one-runtime:v1:${b.purpose}:${b.organizationId}:${b.rowId}`, "utf8");

export class Vault {
  private readonly keys: Map<string, Buffer>;
  readonly currentKeyId: string;
  private readonly onOpenFailure: (failure: OpenFailure) => void;

  /**
   * `keys` in order of preference: the first encrypts, all decrypt. `onOpenFailure` hears of
   * every ciphertext that does not open (the server logs it at error level: data was altered, or
   * a key is missing).
   */
  constructor(keys: { id: string; key: Buffer }[], opts: { onOpenFailure?: (failure: OpenFailure) => void } = {}) {
    if (!keys.length) throw new VaultError("The vault needs at least one key");
    for (const k of keys) if (k.key.length !== 32) throw new VaultError(`Encryption key ${k.id} must be 32 bytes`);
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    this.currentKeyId = keys[0]!.id;
    this.onOpenFailure = opts.onOpenFailure ?? (() => {});
  }

  /** The configured key ids, newest first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  has(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /**
   * A check value for one key: an HMAC of a fixed text under that key. Stored beside the data, it
   * tells whether a key configured later under the same id is the same key, and reveals nothing
   * about the key.
   */
  fingerprint(keyId: string): string {
    const key = this.keys.get(keyId);
    if (!key) throw new VaultError(`Encryption key ${keyId} is not configured`);
    return createHmac("sha256", key).update(`one-runtime:key-check:v1:${keyId}`).digest("base64url");
  }

  seal(value: unknown, binding: VaultBinding): Sealed {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(aad(binding));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    return { ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url"), keyId: this.currentKeyId };
  }

  /** Opens a ciphertext, or says why it does not open; reports nothing. */
  tryOpen<T = unknown>(sealed: Sealed, binding: VaultBinding): OpenResult<T> {
    const key = this.keys.get(sealed.keyId);
    if (!key) return { ok: false, reason: "key-not-configured" };
    try {
      const raw = Buffer.from(sealed.ciphertext, "base64url");
      if (raw.length < IV_BYTES + TAG_BYTES) return { ok: false, reason: "integrity" };
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(aad(binding));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
      return { ok: true, value: JSON.parse(text) as T };
    } catch {
      return { ok: false, reason: "integrity" };
    }
  }

  /**
   * Opens a ciphertext. One that does not open is never a client's mistake and never a secret of
   * another row: it is reported (onOpenFailure) and thrown as CREDENTIALS_UNREADABLE.
   */
  open<T = unknown>(sealed: Sealed, binding: VaultBinding): T {
    const result = this.tryOpen<T>(sealed, binding);
    if (result.ok) return result.value;
    this.onOpenFailure({ ...binding, keyId: sealed.keyId, reason: result.reason });
    throw new ServiceError(
      "CREDENTIALS_UNREADABLE",
      result.reason === "key-not-configured"
        ? `These stored credentials were encrypted with key ${sealed.keyId}, which this server does not have`
        : "These stored credentials failed their integrity check and cannot be used",
    );
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

/** The embedded default's key when the data folder has one; never creates it. */
export async function readDevKey(dataDir: string): Promise<{ id: string; key: Buffer }[] | undefined> {
  const existing = await readFile(join(dataDir, "encryption-key"), "utf8").catch(() => undefined);
  return existing ? parseEncryptionKeys(existing) : undefined;
}

/**
 * The embedded default's key: generated once into the data folder (mode 0600). Fine for a
 * laptop; a deployment sets ONE_RUNTIME_ENCRYPTION_KEY and keeps it out of the database's reach.
 */
export async function loadOrCreateDevKey(dataDir: string): Promise<{ keys: { id: string; key: Buffer }[]; created: boolean }> {
  const file = join(dataDir, "encryption-key");
  const existing = await readDevKey(dataDir);
  if (existing) return { keys: existing, created: false };
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  await writeFile(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  return { keys: [{ id: derivedKeyId(key), key }], created: true };
}
