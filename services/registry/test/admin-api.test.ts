// The admin API against real PostgreSQL and NATS: bearer auth (401, nothing changes),
// consumers, users, audit, bootstrap import, OpenAPI, config rules.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { NatsBus } from "@signet/shared/bus";
import { consumerContext, consumerSecrets, findConsumer, issueToken } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { keyring } from "@signet/test-support/keys";
import { startPrivateNats, type PrivateNats } from "@signet/test-support/nats";
import { buildRegistryApp } from "../src/app.js";
import { loadRegistryConfig } from "../src/config.js";
import { ADMIN, MASTER_KEY, OTHER_ADMIN, auth, registryConfig } from "./helpers.js";

const tdb = useTestDatabase();
let app: FastifyInstance;
let bus: NatsBus;

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

// Its own nats-server, so that data pods of other test files do not confirm these events.
let nats: PrivateNats;
const testNatsUrl = () => nats.url;

beforeAll(async () => {
  nats = await startPrivateNats();
  bus = await NatsBus.connect({ servers: testNatsUrl(), name: "registry-admin-test" });
  app = await buildRegistryApp({
    config: registryConfig(tdb.url, testNatsUrl(), { confirmWindowMs: 100 }),
    db: tdb.db,
    bus,
    logger: false,
  });
});
afterAll(async () => {
  await app?.close();
  await bus?.close();
  await nats?.dispose();
});

describe("authentication", () => {
  it("refuses no token, a wrong token, a malformed header, and changes nothing", async () => {
    const { json: created } = await app
      .inject({ method: "POST", url: "/consumers", headers: auth(), payload: { name: "auth-target" } })
      .then((r) => ({ json: r.json() as { key: string } }));
    const { json: user } = await app
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
        const res = await app.inject({ ...attempt, headers });
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
    expect((await app.inject("/healthz")).statusCode).toBe(200);
    const ready = await app.inject("/readyz");
    expect(ready.statusCode).toBe(200);
    expect((await app.inject("/metrics")).body).toContain("signet_registry_confirmed_pods");
    const doc = (await app.inject("/docs/json")).json() as {
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
    expect((await app.inject("/docs")).statusCode).toBeLessThan(400);
  });
});

describe("consumers", () => {
  it("creates with a CSPRNG key and secret shown once, lists, shows, rotates, revokes; audited with the actor", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/consumers",
      headers: auth(),
      payload: { name: "billing", scopes: ["notes:read"] },
    });
    expect(res.statusCode).toBe(201);
    const created = res.json() as {
      key: string;
      secret: string;
      name: string;
      scopes: string[];
      status: string;
      created_at: string;
    };
    expect(created).toMatchObject({ name: "billing", scopes: ["notes:read"], status: "active" });
    expect(created.key).toMatch(/^ck_[A-Za-z0-9_-]{24}$/);
    expect(Buffer.from(created.secret, "base64url")).toHaveLength(32);
    const row = await findConsumer(tdb.db, created.key);
    expect(row!.secret_sealed).not.toContain(created.secret);
    expect(keyring.open(row!.secret_sealed, consumerContext(created.key))).toBe(created.secret);

    const dup = await app.inject({
      method: "POST",
      url: "/consumers",
      headers: auth(),
      payload: { name: "billing" },
    });
    expect(dup.statusCode).toBe(409);
    const bad = await app.inject({
      method: "POST",
      url: "/consumers",
      headers: auth(),
      payload: { name: "" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: "invalid_input" });

    const list = (await app.inject({ url: "/consumers", headers: auth() })).json() as {
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
    });
    const shown = await app.inject({ url: `/consumers/${created.key}`, headers: auth(OTHER_ADMIN.token) });
    expect(shown.json()).toEqual(listed);
    expect(JSON.stringify(list)).not.toContain(created.secret);
    expect((await app.inject({ url: "/consumers/ck_nope", headers: auth() })).statusCode).toBe(404);

    const rotated = await app.inject({
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
    const rotateNoBody = await app.inject({
      method: "POST",
      url: `/consumers/${created.key}/rotate`,
      headers: auth(),
    });
    expect(rotateNoBody.statusCode).toBe(200);
    expect(consumerSecrets(keyring, (await findConsumer(tdb.db, created.key))!)).toHaveLength(1);

    const revoked = await app.inject({
      method: "POST",
      url: `/consumers/${created.key}/revoke`,
      headers: auth(),
      payload: { reason: "leaked in a log" },
    });
    expect(revoked.statusCode).toBe(200);
    const answer = revoked.json() as {
      key: string;
      status: string;
      revoked_at: string;
      confirmed_pods: number;
    };
    expect(answer).toMatchObject({ key: created.key, status: "revoked", confirmed_pods: 0 });
    expect(Object.keys(answer).sort()).toEqual(["confirmed_pods", "key", "revoked_at", "status"]);
    // again: same revoked_at, announced again
    const again = (
      await app.inject({
        method: "POST",
        url: `/consumers/${created.key}/revoke`,
        headers: auth(),
        payload: { reason: "again" },
      })
    ).json();
    expect(again).toMatchObject({ revoked_at: answer.revoked_at });
    const rotateRevoked = await app.inject({
      method: "POST",
      url: `/consumers/${created.key}/rotate`,
      headers: auth(),
      payload: {},
    });
    expect(rotateRevoked.statusCode).toBe(409);
    expect(
      (
        await app.inject({
          method: "POST",
          url: "/consumers/ck_nope/revoke",
          headers: auth(),
          payload: { reason: "x" },
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (
        await app.inject({
          method: "POST",
          url: `/consumers/${created.key}/revoke`,
          headers: auth(),
          payload: {},
        })
      ).statusCode,
    ).toBe(400);

    const events = (
      (await app.inject({ url: "/audit?limit=20", headers: auth() })).json() as {
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
      await app.inject({
        method: "POST",
        url: "/consumers",
        headers: auth(),
        payload: { name: "token-holder" },
      })
    ).json() as { key: string };
    const u = (
      await app.inject({
        method: "POST",
        url: "/users",
        headers: auth(),
        payload: { username: "tok-user", password: "password-123", display_name: "T" },
      })
    ).json() as { id: string };
    for (let i = 0; i < 3; i++)
      await issueToken(tdb.db, keyring, { userId: u.id, consumerKey: c.key, ttlSeconds: 600 });
    const res = (
      await app.inject({
        method: "POST",
        url: `/consumers/${c.key}/revoke`,
        headers: auth(),
        payload: { reason: "compromised" },
      })
    ).json() as { revoked_at: string };
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
    const res = await app.inject({
      method: "POST",
      url: "/users",
      headers: auth(),
      payload: { username: "carol", password: "pass-word-1", display_name: "Carol C" },
    });
    expect(res.statusCode).toBe(201);
    const carol = res.json() as { id: string; username: string };
    expect(carol).toMatchObject({ username: "carol", display_name: "Carol C", status: "active" });
    expect(
      (
        await app.inject({
          method: "POST",
          url: "/users",
          headers: auth(),
          payload: { username: "Carol", password: "pass-word-1", display_name: "X" },
        })
      ).json(),
    ).toMatchObject({ error: "username_taken" });
    expect(
      (
        await app.inject({
          method: "POST",
          url: "/users",
          headers: auth(),
          payload: { username: "x", password: "short", display_name: "X" },
        })
      ).statusCode,
    ).toBe(400);
    const list = await app.inject({ url: "/users", headers: auth() });
    expect(list.body).not.toContain("argon2");
    expect(list.body).not.toContain("password");
    expect((list.json() as { users: { username: string }[] }).users.map((u) => u.username)).toContain(
      "carol",
    );

    const c = (
      await app.inject({ method: "POST", url: "/consumers", headers: auth(), payload: { name: "carol-app" } })
    ).json() as { key: string };
    await issueToken(tdb.db, keyring, { userId: carol.id, consumerKey: c.key, ttlSeconds: 600 });
    await issueToken(tdb.db, keyring, { userId: carol.id, consumerKey: c.key, ttlSeconds: 600 });
    const pw = await app.inject({
      method: "POST",
      url: "/users/carol/password",
      headers: auth(OTHER_ADMIN.token),
      payload: { password: "a new password" },
    });
    expect(pw.statusCode).toBe(200);
    expect(pw.json()).toMatchObject({ username: "carol", status: "active", tokens_revoked: 2 });
    await issueToken(tdb.db, keyring, { userId: carol.id, consumerKey: c.key, ttlSeconds: 600 });
    const dis = await app.inject({ method: "POST", url: "/users/CAROL/disable", headers: auth() });
    expect(dis.statusCode).toBe(200);
    expect(dis.json()).toMatchObject({ username: "carol", status: "disabled", tokens_revoked: 1 });
    expect(
      (await app.inject({ method: "POST", url: "/users/nobody/disable", headers: auth() })).statusCode,
    ).toBe(404);
    expect(
      (
        await app.inject({
          method: "POST",
          url: "/users/nobody/password",
          headers: auth(),
          payload: { password: "whatever123" },
        })
      ).statusCode,
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
      (await app.inject({ url: "/audit?limit=100", headers: auth() })).json() as {
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
    const res = (await app.inject({ url: "/audit?limit=2", headers: auth() })).json() as {
      events: { at: string }[];
    };
    expect(res.events).toHaveLength(2);
    expect(Date.parse(res.events[0]!.at)).toBeGreaterThanOrEqual(Date.parse(res.events[1]!.at));
    expect((await app.inject({ url: "/audit?limit=0", headers: auth() })).statusCode).toBe(400);
    expect((await app.inject({ url: "/audit?limit=abc", headers: auth() })).statusCode).toBe(400);
  });
});

describe("bootstrap consumers", () => {
  it("imports SIGNET_BOOTSTRAP_CONSUMERS idempotently, replaces a changed secret, never revives a revoked key", async () => {
    const key = "ck_frontend_boot";
    const build = async (secret: string) => {
      const registry = await buildRegistryApp({
        config: registryConfig(tdb.url, testNatsUrl(), {
          confirmWindowMs: 50,
          bootstrapConsumers: [{ name: "frontend-boot", key, secret }],
        }),
        db: tdb.db,
        bus,
        logger: false,
      });
      await registry.outboxRelay.stop();
      return registry;
    };
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
    await app.inject({
      method: "POST",
      url: `/consumers/${key}/revoke`,
      headers: auth(),
      payload: { reason: "test" },
    });
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
