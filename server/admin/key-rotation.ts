// Encryption keys against the data they sealed. At start-up: every key id that stored data uses
// is configured, and each configured key is the key its id stood for before (a check value per
// id in EncryptionKeyCheck), so a wrong key is refused before anything is sealed with it. And the
// re-encryption behind a rotation: every ciphertext re-sealed with the newest key, in batches,
// each write conditional on the ciphertext it read, so it can run while servers run, and again.
import { ConfigError } from "../config.js";
import { credentialsBinding } from "../connections/credentials.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { secretBinding } from "../oauth/apps.js";
import { flowBinding } from "../oauth/authorize.js";
import { OPEN_STATUSES } from "../sessions/lifecycle.js";
import type { Sealed, Vault, VaultBinding } from "../vault.js";
import { webhookSecretBinding } from "../webhooks/endpoints.js";

/** Where ciphertexts live: connections' credentials, OAuth apps' client secrets, open sessions' OAuth flows, webhook secrets. */
export type SealedPlace = "connections" | "oauthApps" | "oauthFlows" | "webhookSecrets";

/** A webhook endpoint's previous secret, while it still signs (after that it is never read again). */
const previousSecretValid = () => ({ previousSecretEnc: { not: null }, previousSecretUntil: { gt: new Date() } });

/**
 * Key id → how many ciphertexts that can still be opened use it. Ended sessions' flows are never
 * opened again, so they do not count (re-encryption clears them).
 */
export async function keyIdsInUse(prisma: PrismaClient): Promise<Map<string, number>> {
  const connections = await prisma.connection.groupBy({ by: ["encryptionKeyId"], _count: { _all: true } });
  const apps = await prisma.integrationConfig.groupBy({ by: ["encryptionKeyId"], where: { oauthClientSecretEnc: { not: null } }, _count: { _all: true } });
  const flows = await prisma.hostedConnectionSession.groupBy({
    by: ["oauthFlowKeyId"],
    where: { oauthFlowEnc: { not: null }, status: { in: OPEN_STATUSES } },
    _count: { _all: true },
  });
  const webhookSecrets = await prisma.webhookEndpoint.groupBy({ by: ["secretKeyId"], _count: { _all: true } });
  const previousSecrets = await prisma.webhookEndpoint.groupBy({ by: ["previousSecretKeyId"], where: previousSecretValid(), _count: { _all: true } });
  const inUse = new Map<string, number>();
  const add = (id: string | null, n: number) => id && inUse.set(id, (inUse.get(id) ?? 0) + n);
  for (const g of webhookSecrets) add(g.secretKeyId, g._count._all);
  for (const g of previousSecrets) add(g.previousSecretKeyId, g._count._all);
  for (const g of connections) add(g.encryptionKeyId, g._count._all);
  for (const g of apps) add(g.encryptionKeyId, g._count._all);
  for (const g of flows) add(g.oauthFlowKeyId, g._count._all);
  return inUse;
}

/** A few ciphertexts sealed under `keyId`, with their bindings. */
async function samplesUnder(prisma: PrismaClient, keyId: string, take = 5): Promise<{ sealed: Sealed; binding: VaultBinding }[]> {
  const connections = await prisma.connection.findMany({ where: { encryptionKeyId: keyId }, select: { id: true, organizationId: true, credentialsEnc: true }, take });
  const apps = await prisma.integrationConfig.findMany({ where: { encryptionKeyId: keyId, oauthClientSecretEnc: { not: null } }, select: { id: true, organizationId: true, oauthClientSecretEnc: true }, take });
  const flows = await prisma.hostedConnectionSession.findMany({
    where: { oauthFlowKeyId: keyId, oauthFlowEnc: { not: null }, status: { in: OPEN_STATUSES } },
    select: { id: true, organizationId: true, oauthFlowEnc: true },
    take,
  });
  const endpoints = await prisma.webhookEndpoint.findMany({ where: { secretKeyId: keyId }, select: { id: true, organizationId: true, secretEnc: true }, take });
  return [
    ...endpoints.map((r) => ({ sealed: { ciphertext: r.secretEnc, keyId }, binding: webhookSecretBinding(r) })),
    ...connections.map((r) => ({ sealed: { ciphertext: r.credentialsEnc, keyId }, binding: credentialsBinding(r) })),
    ...apps.map((r) => ({ sealed: { ciphertext: r.oauthClientSecretEnc!, keyId }, binding: secretBinding(r.organizationId, r.id) })),
    ...flows.map((r) => ({ sealed: { ciphertext: r.oauthFlowEnc!, keyId }, binding: flowBinding(r) })),
  ];
}

const describeUse = (inUse: Map<string, number>, ids: string[]) => ids.map((id) => `${id} (${inUse.get(id)} stored)`).join(", ");

/**
 * Refuses (ConfigError, one line) keys that cannot serve this database: a key id that stored data
 * uses is not configured, or a configured key is not the one its id stood for (its check value
 * differs or, where no check was recorded yet, it opens none of the ciphertexts under that id).
 * Records the check value of each configured key seen for the first time. Reads only, otherwise.
 */
export async function verifyEncryptionKeys(prisma: PrismaClient, vault: Vault): Promise<{ recorded: string[]; inUse: Map<string, number> }> {
  const inUse = await keyIdsInUse(prisma);
  const missing = [...inUse.keys()].filter((id) => !vault.has(id));
  if (missing.length) {
    throw new ConfigError(
      `ONE_RUNTIME_ENCRYPTION_KEY has no key ${describeUse(inUse, missing)}, which stored credentials are encrypted with: ` +
        "keep it in the list (after the newest key) until `npm run admin -- reencrypt` has moved them",
    );
  }
  const stored = new Map((await prisma.encryptionKeyCheck.findMany()).map((r) => [r.keyId, r.check]));
  const recorded: string[] = [];
  for (const id of vault.keyIds) {
    const check = vault.fingerprint(id);
    let known = stored.get(id);
    if (known === undefined) {
      // No check yet (a database from before checks, or a new key): data under this id decides.
      if (inUse.has(id)) {
        const samples = await samplesUnder(prisma, id);
        if (!samples.some((s) => vault.tryOpen(s.sealed, s.binding).ok)) {
          throw new ConfigError(`ONE_RUNTIME_ENCRYPTION_KEY: key ${id} does not decrypt the credentials stored under that id: it is another key`);
        }
      }
      await prisma.encryptionKeyCheck.createMany({ data: [{ keyId: id, check }], skipDuplicates: true });
      // Another instance starting at the same moment may have recorded its own key for this id.
      known = (await prisma.encryptionKeyCheck.findUniqueOrThrow({ where: { keyId: id } })).check;
      recorded.push(id);
    }
    if (known !== check) {
      throw new ConfigError(`ONE_RUNTIME_ENCRYPTION_KEY: key ${id} is not the key this database knows under that id (its check value differs); give a new key a new id`);
    }
  }
  return { recorded, inUse };
}

export type ReencryptCounts = { resealed: number; unreadable: number; changedMeanwhile: number };
export type ReencryptResult = {
  keyId: string;
  connections: ReencryptCounts;
  oauthApps: ReencryptCounts;
  /** Open sessions' flows are re-sealed; ended sessions' flows, never read again, are cleared. */
  oauthFlows: ReencryptCounts & { cleared: number };
  /** Webhook endpoints' secrets, the previous one too while it still signs (expired ones are cleared). */
  webhookSecrets: ReencryptCounts;
  /** Rows whose ciphertext did not open (left as they are), at most 50. */
  unreadableRows: { place: SealedPlace; id: string }[];
  /** Key id → ciphertexts still under another key than the newest, after the pass. */
  remaining: Record<string, number>;
};

const MAX_LISTED = 50;

/**
 * Walks one place in id order, `batchSize` rows at a time, re-sealing each row's ciphertext with
 * the newest key. A row that changed since it was read (a token refresh, a new flow) is left to
 * its writer and counted; a re-run picks up whatever is still under an old key.
 */
async function resealPlace<Row extends { id: string }>(
  place: SealedPlace,
  vault: Vault,
  batchSize: number,
  result: ReencryptResult,
  counts: ReencryptCounts,
  fetch: (after: string | undefined, take: number) => Promise<Row[]>,
  sealedOf: (row: Row) => { sealed: Sealed; binding: VaultBinding },
  write: (row: Row, next: Sealed) => Promise<number>,
) {
  let after: string | undefined;
  for (;;) {
    const rows = await fetch(after, batchSize);
    if (!rows.length) return;
    for (const row of rows) {
      const { sealed, binding } = sealedOf(row);
      const opened = vault.tryOpen(sealed, binding);
      if (!opened.ok) {
        counts.unreadable++;
        if (result.unreadableRows.length < MAX_LISTED) result.unreadableRows.push({ place, id: row.id });
        continue;
      }
      if ((await write(row, vault.seal(opened.value, binding))) === 1) counts.resealed++;
      else counts.changedMeanwhile++;
    }
    after = rows.at(-1)!.id;
  }
}

/** Re-seals every ciphertext not under the newest key with it; prints nothing, returns counts. */
export async function reencryptAll(prisma: PrismaClient, vault: Vault, opts: { batchSize?: number } = {}): Promise<ReencryptResult> {
  const current = vault.currentKeyId;
  const batchSize = opts.batchSize ?? 100;
  const zero = () => ({ resealed: 0, unreadable: 0, changedMeanwhile: 0 });
  const result: ReencryptResult = { keyId: current, connections: zero(), oauthApps: zero(), oauthFlows: { ...zero(), cleared: 0 }, webhookSecrets: zero(), unreadableRows: [], remaining: {} };
  const page = (after: string | undefined) => (after ? { id: { gt: after } } : {});

  // updatedAt is kept: re-encryption changes nothing a reader sees (and session watchers compare it).
  await resealPlace(
    "connections",
    vault,
    batchSize,
    result,
    result.connections,
    (after, take) =>
      prisma.connection.findMany({
        where: { encryptionKeyId: { not: current }, ...page(after) },
        orderBy: { id: "asc" },
        take,
        select: { id: true, organizationId: true, credentialsEnc: true, encryptionKeyId: true, updatedAt: true },
      }),
    (r) => ({ sealed: { ciphertext: r.credentialsEnc, keyId: r.encryptionKeyId }, binding: credentialsBinding(r) }),
    async (r, next) =>
      (
        await prisma.connection.updateMany({
          where: { id: r.id, encryptionKeyId: r.encryptionKeyId, credentialsEnc: r.credentialsEnc },
          data: { credentialsEnc: next.ciphertext, encryptionKeyId: next.keyId, updatedAt: r.updatedAt },
        })
      ).count,
  );

  await resealPlace(
    "oauthApps",
    vault,
    batchSize,
    result,
    result.oauthApps,
    (after, take) =>
      prisma.integrationConfig.findMany({
        where: { oauthClientSecretEnc: { not: null }, OR: [{ encryptionKeyId: null }, { encryptionKeyId: { not: current } }], ...page(after) },
        orderBy: { id: "asc" },
        take,
        select: { id: true, organizationId: true, oauthClientSecretEnc: true, encryptionKeyId: true, updatedAt: true },
      }),
    (r) => ({ sealed: { ciphertext: r.oauthClientSecretEnc!, keyId: r.encryptionKeyId ?? "" }, binding: secretBinding(r.organizationId, r.id) }),
    async (r, next) =>
      (
        await prisma.integrationConfig.updateMany({
          where: { id: r.id, encryptionKeyId: r.encryptionKeyId, oauthClientSecretEnc: r.oauthClientSecretEnc },
          data: { oauthClientSecretEnc: next.ciphertext, encryptionKeyId: next.keyId, updatedAt: r.updatedAt },
        })
      ).count,
  );

  // Ended sessions first: their flows are cleared, not moved.
  let after: string | undefined;
  for (;;) {
    const ended = await prisma.hostedConnectionSession.findMany({
      where: { oauthFlowEnc: { not: null }, oauthFlowKeyId: { not: current }, status: { notIn: OPEN_STATUSES }, ...page(after) },
      orderBy: { id: "asc" },
      take: batchSize,
      select: { id: true, oauthFlowEnc: true, updatedAt: true },
    });
    if (!ended.length) break;
    for (const s of ended) {
      const { count } = await prisma.hostedConnectionSession.updateMany({
        where: { id: s.id, oauthFlowEnc: s.oauthFlowEnc, status: { notIn: OPEN_STATUSES } },
        data: { oauthFlowEnc: null, oauthFlowKeyId: null, updatedAt: s.updatedAt },
      });
      result.oauthFlows.cleared += count;
    }
    after = ended.at(-1)!.id;
  }
  await resealPlace(
    "oauthFlows",
    vault,
    batchSize,
    result,
    result.oauthFlows,
    (after, take) =>
      prisma.hostedConnectionSession.findMany({
        where: { oauthFlowEnc: { not: null }, oauthFlowKeyId: { not: current }, status: { in: OPEN_STATUSES }, ...page(after) },
        orderBy: { id: "asc" },
        take,
        select: { id: true, organizationId: true, oauthFlowEnc: true, oauthFlowKeyId: true, updatedAt: true },
      }),
    (r) => ({ sealed: { ciphertext: r.oauthFlowEnc!, keyId: r.oauthFlowKeyId ?? "" }, binding: flowBinding(r) }),
    async (r, next) =>
      (
        await prisma.hostedConnectionSession.updateMany({
          where: { id: r.id, oauthFlowKeyId: r.oauthFlowKeyId, oauthFlowEnc: r.oauthFlowEnc, status: { in: OPEN_STATUSES } },
          data: { oauthFlowEnc: next.ciphertext, oauthFlowKeyId: next.keyId, updatedAt: r.updatedAt },
        })
      ).count,
  );

  // Expired previous secrets are never read again: cleared, not moved.
  await prisma.webhookEndpoint.updateMany({
    where: { previousSecretEnc: { not: null }, previousSecretUntil: { lte: new Date() } },
    data: { previousSecretEnc: null, previousSecretKeyId: null, previousSecretUntil: null },
  });
  for (const [enc, keyId] of [["secretEnc", "secretKeyId"], ["previousSecretEnc", "previousSecretKeyId"]] as const) {
    type Row = { id: string; organizationId: string; updatedAt: Date } & Record<typeof enc | typeof keyId, string | null>;
    await resealPlace(
      "webhookSecrets",
      vault,
      batchSize,
      result,
      result.webhookSecrets,
      async (after, take) =>
        (await prisma.webhookEndpoint.findMany({
          where: { [keyId]: { not: current }, ...(enc === "previousSecretEnc" ? previousSecretValid() : {}), ...page(after) },
          orderBy: { id: "asc" },
          take,
          select: { id: true, organizationId: true, updatedAt: true, [enc]: true, [keyId]: true },
        })) as unknown as Row[],
      (r) => ({ sealed: { ciphertext: r[enc]!, keyId: r[keyId] ?? "" }, binding: webhookSecretBinding(r) }),
      async (r, next) =>
        (
          await prisma.webhookEndpoint.updateMany({
            where: { id: r.id, [enc]: r[enc], [keyId]: r[keyId] },
            data: { [enc]: next.ciphertext, [keyId]: next.keyId, updatedAt: r.updatedAt },
          })
        ).count,
    );
  }

  for (const [id, n] of await keyIdsInUse(prisma)) if (id !== current) result.remaining[id] = n;
  return result;
}
