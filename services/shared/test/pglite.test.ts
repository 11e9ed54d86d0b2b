// The embedded database of `npm start`: the same migrations and repositories run on it,
// and concurrent work queues behind a transaction instead of interleaving with it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { keyring } from "@signet/test-support/keys";
import { sleep } from "@signet/test-support/wait";
import { createPgliteDb } from "../src/db/pglite.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { consumerSecrets, createConsumer, findConsumer } from "../src/repos/consumers.js";

describe("PGlite", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "signet-pglite-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("migrates, stores and keeps data across a reopen", async () => {
    let db = await createPgliteDb(dir);
    await migrateToLatest(db);
    const { consumer, secret } = await createConsumer(db, keyring, {
      name: "frontend",
      scopes: ["notes:read"],
    });
    await db.destroy();

    db = await createPgliteDb(dir);
    expect((await migrateToLatest(db)).results).toEqual([]);
    const found = await findConsumer(db, consumer.key);
    expect(found?.scopes).toEqual(["notes:read"]);
    expect(consumerSecrets(keyring, found!)).toEqual([secret]);

    // A transaction holds the single connection; a concurrent query waits for it.
    const order: string[] = [];
    await Promise.all([
      db.transaction().execute(async (trx) => {
        await trx.updateTable("consumers").set({ name: "renamed" }).execute();
        await sleep(50);
        order.push("trx");
      }),
      (async () => {
        await sleep(10);
        const row = await db.selectFrom("consumers").select("name").executeTakeFirstOrThrow();
        order.push(`read:${row.name}`);
      })(),
    ]);
    expect(order).toEqual(["trx", "read:renamed"]);
    await db.destroy();
  });
});
