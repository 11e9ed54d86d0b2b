// Least privilege (docs/api.md, "Scopes"): `*` grants every scope, an empty list grants
// nothing — not even the routes that name no scope — and a consumer created before scopes
// meant anything (an empty list, which used to be unrestricted) is migrated to `*`.
import { Migrator } from "kysely";
import { describe, expect, it } from "vitest";
import type { LightMyRequestResponse } from "fastify";
import { migrateToLatest, migrations } from "@signet/shared/db";
import type { ClientCredentials } from "@signet/shared/oauth";
import { createConsumer } from "@signet/shared/repos";
import { createTestDatabase, useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { keyring, unique } from "@signet/test-support/keys";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedConsumer, seedToken, seedUser } from "@signet/test-support/seed";
import { signedInject, type SignedOptions } from "@signet/test-support/signed";
import { holdsScopes } from "../src/plugins/oauth.js";

const tdb = useTestDatabase();
const { pod, user } = useDataPod(tdb, { listen: false });

/** One request to every data route, signed by `consumer` (and `token` where the route takes one). */
function everyRoute(consumer: ClientCredentials, token: ClientCredentials, noteId: string): SignedOptions[] {
  const withToken = { consumer, token };
  return [
    {
      method: "POST",
      url: "/authenticate",
      consumer,
      form: { username: user.username, password: user.password },
    },
    {
      method: "POST",
      url: "/users",
      consumer,
      json: { username: unique("s"), password: "password123", display_name: "S" },
    },
    { method: "GET", url: "/me", ...withToken },
    { method: "GET", url: "/notes", ...withToken },
    { method: "POST", url: "/notes", ...withToken, json: { title: "t", body: "b" } },
    { method: "GET", url: `/notes/${noteId}`, ...withToken },
    { method: "PATCH", url: `/notes/${noteId}`, ...withToken, json: { title: "x" } },
    { method: "DELETE", url: `/notes/${noteId}`, ...withToken },
    { method: "POST", url: "/logout", ...withToken },
  ];
}

/** A note of the file's user through `consumer`: its id. */
async function newNote(
  consumer: ClientCredentials,
  token: ClientCredentials,
  title: string,
): Promise<string> {
  const res = await signedInject(pod.app, {
    method: "POST",
    url: "/notes",
    consumer,
    token,
    json: { title, body: "" },
  });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: string }).id;
}

function expectInsufficientScope(res: LightMyRequestResponse, what: string) {
  expect(res.statusCode, `${what}: ${res.body}`).toBe(403);
  expect(res.json()).toEqual({ error: "insufficient_scope", message: expect.any(String) });
}

describe("scope semantics", () => {
  it("`*` grants every scope, an empty list none, otherwise each required scope must be listed", () => {
    expect(holdsScopes(["*"], ["authenticate", "notes:write"])).toBe(true);
    expect(holdsScopes(["*"])).toBe(true);
    expect(holdsScopes([], ["authenticate"])).toBe(false);
    expect(holdsScopes([])).toBe(false);
    expect(holdsScopes(["notes:read"])).toBe(true);
    expect(holdsScopes(["notes:read"], ["notes:write"])).toBe(false);
    expect(holdsScopes(["notes:read", "notes:write"], ["notes:write"])).toBe(true);
  });
});

describe("a consumer granted no scope", () => {
  it("is refused everywhere with 403 insufficient_scope, its tokens included", async () => {
    const nothing = await seedConsumer(tdb.db, { scopes: [] });
    const token = await seedToken(tdb.db, user, nothing);
    const everything = await seedConsumer(tdb.db, { scopes: ["*"] });
    const own = await seedToken(tdb.db, user, everything);
    const note = await newNote(everything, own, "kept");
    for (const request of everyRoute(nothing, token, note)) {
      expectInsufficientScope(await signedInject(pod.app, request), `${request.method} ${request.url}`);
    }
    // nothing happened: the note is still there, the token still valid (for nothing)
    const kept = await signedInject(pod.app, {
      method: "GET",
      url: `/notes/${note}`,
      consumer: everything,
      token: own,
    });
    expect(kept.json()).toMatchObject({ title: "kept" });
    const row = await tdb.db
      .selectFrom("access_tokens")
      .select("revoked_at")
      .where("token", "=", token.key)
      .executeTakeFirstOrThrow();
    expect(row.revoked_at).toBeNull();
  });

  it("`*` may call every route", async () => {
    const everything = await seedConsumer(tdb.db, { scopes: ["*"] });
    const token = await seedToken(tdb.db, user, everything);
    const note = await newNote(everything, token, "n");
    for (const request of everyRoute(everything, token, note)) {
      const res = await signedInject(pod.app, request);
      expect(res.statusCode, `${request.method} ${request.url}: ${res.body}`).toBeLessThan(300);
    }
  });
});

describe("the migration of scope-less consumers", () => {
  it("rewrites a legacy consumer's empty list to `*`: it keeps working; a new empty list grants nothing", async () => {
    const legacy = await createTestDatabase({ migrate: false, prefix: "signet_scopes" });
    let data: DataPod | undefined;
    try {
      // the schema as it was before scopes meant least privilege, and a consumer of that time
      const before = Object.keys(migrations).filter((name) => name < "2026-11-30T00-00-consumer-scopes");
      const migrator = new Migrator({ db: legacy.db, provider: { getMigrations: async () => migrations } });
      const up = await migrator.migrateTo(before.at(-1)!);
      expect(up.error).toBeUndefined();
      const old = await createConsumer(legacy.db, keyring, { name: "legacy-frontend", scopes: [] });
      await migrateToLatest(legacy.db);

      const row = await legacy.db
        .selectFrom("consumers")
        .select("scopes")
        .where("key", "=", old.consumer.key)
        .executeTakeFirstOrThrow();
      expect(row.scopes).toEqual(["*"]);
      data = await startDataPod({ db: legacy.db, listen: false });
      const consumer = { key: old.consumer.key, secret: old.secret };
      const someone = await seedUser(legacy.db);
      const login = await signedInject(data.app, {
        method: "POST",
        url: "/authenticate",
        consumer,
        form: { username: someone.username, password: someone.password, client_ip: "192.0.2.1" },
      });
      expect(login.statusCode, login.body).toBe(200);
      const token = { key: login.json().token, secret: login.json().secret };
      const note = await signedInject(data.app, {
        method: "POST",
        url: "/notes",
        consumer,
        token,
        json: { title: "t", body: "b" },
      });
      expect(note.statusCode, note.body).toBe(201);

      // a consumer created with [] after the migration is not touched by it: it grants nothing
      const fresh = await seedConsumer(legacy.db, { scopes: [] });
      expectInsufficientScope(
        await signedInject(data.app, {
          method: "POST",
          url: "/authenticate",
          consumer: fresh,
          form: { username: someone.username, password: someone.password },
        }),
        "POST /authenticate",
      );
    } finally {
      await data?.close();
      await legacy.drop();
    }
  });
});
