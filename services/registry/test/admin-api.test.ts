// The admin API against real PostgreSQL and NATS: bearer auth (401, nothing changes),
// consumers, users, audit, bootstrap import, OpenAPI, config rules.
import { describe, expect, it } from "vitest";
import { consumerContext, consumerSecrets, findConsumer } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { keyring, MASTER_KEY } from "@signet/test-support/keys";
import { seedToken } from "@signet/test-support/seed";
import { loadRegistryConfig } from "../src/config.js";
import { ADMIN, OTHER_ADMIN, admin, auth, startRegistry, useRegistry } from "./helpers.js";

const tdb = useTestDatabase();
const registry = useRegistry(tdb, { config: { confirmWindowMs: 100 } });

async function counts() {
  const [consumers, users, audit, outbox] = await Promise.all(
    (["consumers", "users", "audit_events", "outbox"] as const).map((t) =>
      tdb.db
        .selectFrom(t)
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow(),
    ),
  );
  return {
    consumers: Number(consumers!.n),
    users: Number(users!.n),
    audit: Number(audit!.n),
    outbox: Number(outbox!.n),
  };
}

describe("authentication", () => {
  it("refuses no token, a wrong token, a malformed header, and changes nothing", async () => {
    const { json: created } = await registry
      .inject({
        method: "POST",
        url: "/consumers",
        headers: auth(),
        payload: { name: "auth-target", scopes: ["*"] },
      })
      .then((r) => ({ json: r.json() as { key: string } }));
    const { json: user } = await registry
      .inject({
        method: "POST",
        url: "/users",
        headers: auth(),
        payload: { username: "auth-user", password: "correct horse battery", display_name: "A" },
      })
      .then((r) => ({ json: r.json() as { id: string } }));
    const before = await counts();
    const attempts: { method: "GET" | "POST"; url: string; payload?: object }[] = [
      { method: "POST", url: "/consumers", payload: { name: "sneaky" } },
      { method: "GET", url: "/consumers" },
      { method: "GET", url: `/consumers/${created.key}` },
      { method: "POST", url: `/consumers/${created.key}/rotate`, payload: {} },
      { method: "POST", url: `/consumers/${created.key}/revoke`, payload: { reason: "x" } },
      {
        method: "POST",
        url: "/users",
        payload: { username: "sneaky", password: "password123", display_name: "S" },
      },
      { method: "GET", url: "/users" },
      { method: "POST", url: "/users/auth-user/disable", payload: {} },
      { method: "POST", url: "/users/auth-user/password", payload: { password: "another password" } },
      { method: "GET", url: "/audit" },
      { method: "GET", url: "/pods" },
    ];
    const badHeaders: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token-wrong-token-wrong" },
      { authorization: `Bearer ${ADMIN.token}x` },
      { authorization: `Basic ${Buffer.from(`x:${ADMIN.token}`).toString("base64")}` },
      { authorization: "Bearer" },
      { authorization: `Bearer ${ADMIN.token} extra` },
      { authorization: ADMIN.name },
    ];
    for (const attempt of attempts) {
      for (const headers of badHeaders) {
        const res = await registry.inject({ ...attempt, headers });
        expect(res.statusCode, `${attempt.method} ${attempt.url} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.json()).toMatchObject({ error: "unauthorized" });
        expect(res.headers["www-authenticate"]).toContain("Bearer");
      }
    }
    expect(await counts()).toEqual(before);
    const consumer = await findConsumer(tdb.db, created.key);
    expect(consumer?.status).toBe("active");
    expect(consumer?.previous_secret_sealed).toBeNull();
    const row = await tdb.db
      .selectFrom("users")
      .selectAll()
      .where("id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("active");
  });

  it("leaves health, readiness, metrics and the OpenAPI document open", async () => {
    expect((await registry.inject("/healthz")).statusCode).toBe(200);
    const ready = await registry.inject("/readyz");
    expect(ready.statusCode).toBe(200);
    expect((await registry.inject("/metrics")).body).toContain("signet_registry_confirmed_pods");
    const doc = (await registry.inject("/docs/json")).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, { scheme: string }> };
      security: unknown[];
    };
    expect(doc.components.securitySchemes.bearer?.scheme).toBe("bearer");
    expect(doc.security).toEqual([{ bearer: [] }]);
    for (const path of [
      "/consumers",
      "/consumers/{key}",
      "/consumers/{key}/rotate",
      "/consumers/{key}/revoke",
      "/users",
      "/users/{username}/disable",
      "/users/{username}/password",
      "/audit",
      "/pods",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
      for (const op of Object.values(doc.paths[path]!)) expect(Object.keys(op.responses)).toContain("401");
    }
    expect(doc.paths["/healthz"]).toBeUndefined();
    expect((await registry.inject("/docs")).statusCode).toBeLessThan(400);
  });
});

describe("consumers", () => {
  it("creates with a CSPRNG key and secret shown once, lists, shows, rotates, revokes; audited with the actor", async () => {
    const res = await admin<{
      key: string;
      secret: string;
      name: string;
      scopes: string[];
      status: string;
      created_at: string;
    }>(registry.app, "POST", "/consumers", { name: "billing", scopes: ["notes:read"] });
    expect(res.status).toBe(201);
    const created = res.body;
    expect(created).toMatchObject({ name: "billing", scopes: ["notes:read"], status: "active" });
    expect(created.key).toMatch(/^ck_[A-Za-z0-9_-]{24}$/);
    expect(Buffer.from(created.secret, "base64url")).toHaveLength(32);
    const row = await findConsumer(tdb.db, created.key);
    expect(row!.secret_sealed).not.toContain(created.secret);
    expect(keyring.open(row!.secret_sealed, consumerContext(created.key))).toBe(created.secret);

    expect((await admin(registry.app, "POST", "/consumers", { name: "billing", scopes: ["*"] })).status).toBe(
      409,
    );
    const bad = await admin(registry.app, "POST", "/consumers", { name: "" });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: "invalid_input" });

    const list = (await registry.inject({ url: "/consumers", headers: auth() })).json() as {
      consumers: Record<string, unknown>[];
    };
    const listed = list.consumers.find((c) => c.key === created.key)!;
    expect(listed).toEqual({
      key: created.key,
      name: "billing",
      scopes: ["notes:read"],
      status: "active",
      created_at: created.created_at,
      revoked_at: null,
      expires_at: null,
      last_used: null,
    });
    const shown = await registry.inject({
      url: `/consumers/${created.key}`,
      headers: auth(OTHER_ADMIN.token),
    });
    expect(shown.json()).toEqual({
      ...listed,
      secrets: [
        {
          id: expect.stringMatching(/^sec_[0-9a-f]{16}$/),
          created_at: created.created_at,
          ends_at: null,
          finish_when_quiet_seconds: null,
          last_used: null,
        },
      ],
    });
    expect(JSON.stringify(list)).not.toContain(created.secret);
    expect((await registry.inject({ url: "/consumers/ck_nope", headers: auth() })).statusCode).toBe(404);

    const rotated = await registry.inject({
      method: "POST",
      url: `/consumers/${created.key}/rotate`,
      headers: auth(OTHER_ADMIN.token),
      payload: { grace_seconds: 60 },
    });
    expect(rotated.statusCode).toBe(200);
    const { secret: newSecret } = rotated.json() as { key: string; secret: string };
    expect(newSecret).not.toBe(created.secret);
    const afterRotate = await findConsumer(tdb.db, created.key);
    expect(consumerSecrets(keyring, afterRotate!)).toEqual([newSecret, created.secret]);
    const rotateNoBody = await admin(registry.app, "POST", `/consumers/${created.key}/rotate`);
    expect(rotateNoBody.status).toBe(200);
    expect(consumerSecrets(keyring, (await findConsumer(tdb.db, created.key))!)).toHaveLength(1);

    const revoked = await admin<{ key: string; status: string; revoked_at: string; confirmed_pods: number }>(
      registry.app,
      "POST",
      `/consumers/${created.key}/revoke`,
      { reason: "leaked in a log" },
    );
    expect(revoked.status).toBe(200);
    const answer = revoked.body;
    expect(answer).toMatchObject({ key: created.key, status: "revoked", confirmed_pods: 0 });
    expect(Object.keys(answer).sort()).toEqual(["confirmed_pods", "key", "revoked_at", "status"]);
    // again: same revoked_at, announced again
    const again = (await admin(registry.app, "POST", `/consumers/${created.key}/revoke`, { reason: "again" }))
      .body;
    expect(again).toMatchObject({ revoked_at: answer.revoked_at });
    expect((await admin(registry.app, "POST", `/consumers/${created.key}/rotate`, {})).status).toBe(409);
    expect((await admin(registry.app, "POST", "/consumers/ck_nope/revoke", { reason: "x" })).status).toBe(
      404,
    );
    expect((await admin(registry.app, "POST", `/consumers/${created.key}/revoke`, {})).status).toBe(400);

    const events = (
      (await registry.inject({ url: "/audit?limit=20", headers: auth() })).json() as {
        events: { actor: string; action: string; target: string; details: Record<string, unknown> }[];
      }
    ).events.filter((e) => e.target === created.key);
    expect(events.map((e) => [e.action, e.actor])).toEqual([
      ["consumer.revoke", ADMIN.name],
      ["consumer.revoke", ADMIN.name],
      ["consumer.rotate", ADMIN.name],
      ["consumer.rotate", OTHER_ADMIN.name],
      ["consumer.create", ADMIN.name],
    ]);
    expect(events[1]!.details).toMatchObject({ reason: "leaked in a log", tokens_revoked: 0 });
    expect(events[3]!.details).toMatchObject({ grace_seconds: 60 });
  });

  it("revoking kills every token issued through the consumer and writes the contract's outbox payload", async () => {
    const c = (
      await admin<{ key: string }>(registry.app, "POST", "/consumers", {
        name: "token-holder",
        scopes: ["*"],
      })
    ).body;
    const u = (
      await admin<{ id: string }>(registry.app, "POST", "/users", {
        username: "tok-user",
        password: "password-123",
        display_name: "T",
      })
    ).body;
    for (let i = 0; i < 3; i++) await seedToken(tdb.db, u, c, 600);
    const res = (
      await admin<{ revoked_at: string }>(registry.app, "POST", `/consumers/${c.key}/revoke`, {
        reason: "compromised",
      })
    ).body;
    const live = await tdb.db
      .selectFrom("access_tokens")
      .select("token")
      .where("consumer_key", "=", c.key)
      .where("revoked_at", "is", null)
      .execute();
    expect(live).toHaveLength(0);
    const row = await tdb.db
      .selectFrom("consumers")
      .selectAll()
      .where("key", "=", c.key)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "revoked", revoke_reason: "compromised" });
    const outbox = await tdb.db
      .selectFrom("outbox")
      .selectAll()
      .where("subject", "=", "signet.consumer.revoked")
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    expect(outbox.payload).toEqual({
      key: c.key,
      at: res.revoked_at,
      reason: "compromised",
      actor: ADMIN.name,
    });
  });
});

describe("users", () => {
  it("creates, lists without hashes, disables and resets passwords, killing tokens; audited", async () => {
    const res = await admin<{ id: string; username: string }>(registry.app, "POST", "/users", {
      username: "carol",
      password: "pass-word-1",
      display_name: "Carol C",
    });
    expect(res.status).toBe(201);
    const carol = res.body;
    expect(carol).toMatchObject({ username: "carol", display_name: "Carol C", status: "active" });
    expect(
      (
        await admin(registry.app, "POST", "/users", {
          username: "Carol",
          password: "pass-word-1",
          display_name: "X",
        })
      ).body,
    ).toMatchObject({ error: "username_taken" });
    expect(
      (await admin(registry.app, "POST", "/users", { username: "x", password: "short", display_name: "X" }))
        .status,
    ).toBe(400);
    const list = await registry.inject({ url: "/users", headers: auth() });
    expect(list.body).not.toContain("argon2");
    expect(list.body).not.toContain("password");
    expect((list.json() as { users: { username: string }[] }).users.map((u) => u.username)).toContain(
      "carol",
    );

    const c = (
      await admin<{ key: string }>(registry.app, "POST", "/consumers", { name: "carol-app", scopes: ["*"] })
    ).body;
    await seedToken(tdb.db, carol, c, 600);
    await seedToken(tdb.db, carol, c, 600);
    const pw = await registry.inject({
      method: "POST",
      url: "/users/carol/password",
      headers: auth(OTHER_ADMIN.token),
      payload: { password: "a new password" },
    });
    expect(pw.statusCode).toBe(200);
    expect(pw.json()).toMatchObject({ username: "carol", status: "active", tokens_revoked: 2 });
    await seedToken(tdb.db, carol, c, 600);
    const dis = await registry.inject({ method: "POST", url: "/users/CAROL/disable", headers: auth() });
    expect(dis.statusCode).toBe(200);
    expect(dis.json()).toMatchObject({ username: "carol", status: "disabled", tokens_revoked: 1 });
    expect(
      (await registry.inject({ method: "POST", url: "/users/nobody/disable", headers: auth() })).statusCode,
    ).toBe(404);
    expect(
      (await admin(registry.app, "POST", "/users/nobody/password", { password: "whatever123" })).status,
    ).toBe(404);

    const outbox = await tdb.db
      .selectFrom("outbox")
      .selectAll()
      .where("subject", "=", "signet.user.disabled")
      .orderBy("id")
      .execute();
    expect(outbox.map((o) => o.payload)).toEqual([
      { user_id: carol.id, at: expect.any(String), actor: OTHER_ADMIN.name },
      { user_id: carol.id, at: expect.any(String), actor: ADMIN.name },
    ]);
    const events = (
      (await registry.inject({ url: "/audit?limit=100", headers: auth() })).json() as {
        events: { actor: string; action: string; target: string }[];
      }
    ).events.filter((e) => e.target === "carol");
    expect(events.map((e) => [e.action, e.actor])).toEqual([
      ["user.disable", ADMIN.name],
      ["user.password", OTHER_ADMIN.name],
      ["user.create", ADMIN.name],
    ]);
  });

  it("audit honours limit and validates it", async () => {
    const res = (await registry.inject({ url: "/audit?limit=2", headers: auth() })).json() as {
      events: { at: string }[];
    };
    expect(res.events).toHaveLength(2);
    expect(Date.parse(res.events[0]!.at)).toBeGreaterThanOrEqual(Date.parse(res.events[1]!.at));
    expect((await registry.inject({ url: "/audit?limit=0", headers: auth() })).statusCode).toBe(400);
    expect((await registry.inject({ url: "/audit?limit=abc", headers: auth() })).statusCode).toBe(400);
  });
});

describe("bootstrap consumers", () => {
  it("imports SIGNET_BOOTSTRAP_CONSUMERS idempotently, replaces a changed secret, never revives a revoked key", async () => {
    const key = "ck_frontend_boot";
    // another registry on the same database, NATS connection and admin tokens
    const build = (secret: string) =>
      startRegistry({
        databaseUrl: tdb.url,
        natsUrl: registry.nats.url,
        db: tdb.db,
        bus: registry.bus,
        relay: false,
        config: { confirmWindowMs: 50, bootstrapConsumers: [{ name: "frontend-boot", key, secret }] },
      });
    const first = "first-secret-0123456789";
    await (await build(first)).close();
    const c1 = (await findConsumer(tdb.db, key))!;
    expect(consumerSecrets(keyring, c1)).toEqual([first]);
    await (await build(first)).close();
    const c2 = (await findConsumer(tdb.db, key))!;
    expect(c2.secret_sealed).toBe(c1.secret_sealed); // untouched
    const second = "second-secret-0123456789";
    await (await build(second)).close();
    expect(consumerSecrets(keyring, (await findConsumer(tdb.db, key))!)).toEqual([second]);
    const audit = await tdb.db
      .selectFrom("audit_events")
      .selectAll()
      .where("target", "=", key)
      .orderBy("id")
      .execute();
    expect(audit.map((a) => [a.action, a.actor])).toEqual([
      ["consumer.create", "bootstrap"],
      ["consumer.rotate", "bootstrap"],
    ]);
    await admin(registry.app, "POST", `/consumers/${key}/revoke`, { reason: "test" });
    await (await build("third-secret-0123456789")).close();
    const c3 = (await findConsumer(tdb.db, key))!;
    expect(c3.status).toBe("revoked");
    expect(consumerSecrets(keyring, c3)).toEqual([second]);
  });
});

describe("configuration", () => {
  it("names every missing required setting at once", () => {
    expect(() => loadRegistryConfig({})).toThrow(
      /DATABASE_URL, NATS_URL, SIGNET_MASTER_KEY, SIGNET_ADMIN_TOKENS/,
    );
  });
  it("parses tokens, bootstrap consumers and the confirmation settings", () => {
    const config = loadRegistryConfig({
      DATABASE_URL: "postgres://x/y",
      NATS_URL: "nats://a:4222,nats://b:4222",
      SIGNET_MASTER_KEY: MASTER_KEY,
      SIGNET_ADMIN_TOKENS: `${ADMIN.name}:${ADMIN.token},${OTHER_ADMIN.name}:${OTHER_ADMIN.token}`,
      SIGNET_BOOTSTRAP_CONSUMERS: "frontend:ck_frontend:abcdefghijklmnopqrstuvwxyz",
      SIGNET_CONFIRM_WINDOW_MS: "250",
      SIGNET_CONFIRM_EXPECTED: "3",
    });
    expect(config).toMatchObject({
      port: 8001,
      adminTokens: [ADMIN, OTHER_ADMIN],
      bootstrapConsumers: [{ name: "frontend", key: "ck_frontend", secret: "abcdefghijklmnopqrstuvwxyz" }],
      confirmWindowMs: 250,
      confirmExpected: 3,
      relayMinAgeMs: 2_250,
    });
  });
  it("refuses weak tokens and a bad master key", () => {
    expect(() =>
      loadRegistryConfig({
        DATABASE_URL: "x",
        NATS_URL: "y",
        SIGNET_MASTER_KEY: "c2hvcnQ=",
        SIGNET_ADMIN_TOKENS: "ops:short",
      }),
    ).toThrow(/SIGNET_MASTER_KEY.*32 bytes.*SIGNET_ADMIN_TOKENS|SIGNET_ADMIN_TOKENS.*SIGNET_MASTER_KEY/);
  });
});
