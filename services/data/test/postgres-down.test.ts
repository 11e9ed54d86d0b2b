// PostgreSQL unreachable (a TCP proxy in front of it is cut): 503 unavailable, no crash,
// readiness false; everything works again once it is restored. Fail closed: cached
// credentials do not let a request through while the database is gone.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { LocalBus } from "@signet/shared/bus";
import { useTestDatabase } from "@signet/test-support/db";
import { startTcpProxy, type TcpProxy } from "@signet/test-support/net";
import { buildDataApp } from "../src/app.js";
import { seedConsumer, seedToken, seedUser, signedInject, testConfig, type SeededUser } from "./helpers.js";

const tdb = useTestDatabase();
let proxy: TcpProxy;
let app: FastifyInstance;

beforeAll(async () => {
  const url = new URL(tdb.url);
  proxy = await startTcpProxy(Number(url.port || 5432), url.hostname);
  url.host = `127.0.0.1:${proxy.port}`;
  app = await buildDataApp({
    config: testConfig({ databaseUrl: url.toString() }),
    bus: new LocalBus(),
    logger: false,
  });
});
afterAll(async () => {
  await app?.close();
  await proxy?.close();
});

it("answers 503 unavailable while PostgreSQL is unreachable and recovers when it returns", async () => {
  const consumer = await seedConsumer(tdb.db);
  const user: SeededUser = await seedUser(tdb.db);
  const token = await seedToken(tdb.db, user, consumer);
  const me = () => signedInject(app, { method: "GET", url: "/me", consumer, token });
  expect((await me()).statusCode).toBe(200); // credentials now cached

  proxy.cut();
  for (const res of await Promise.all([
    me(),
    me(),
    signedInject(app, { method: "GET", url: "/notes", consumer, token }),
    signedInject(app, {
      method: "POST",
      url: "/authenticate",
      consumer,
      form: { username: user.username, password: user.password },
    }),
    signedInject(app, {
      method: "POST",
      url: "/users",
      consumer,
      json: { username: "while_down", password: "password123", display_name: "D" },
    }),
  ])) {
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json()).toEqual({ error: "unavailable", message: expect.any(String) });
  }
  const ready = await app.inject({ method: "GET", url: "/readyz" });
  expect(ready.statusCode).toBe(503);
  expect(ready.json()).toMatchObject({ failed: "database" });
  expect((await app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200); // alive, not ready

  proxy.restore();
  await expect.poll(async () => (await me()).statusCode, { timeout: 10_000, interval: 100 }).toBe(200);
  expect((await app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  const login = await signedInject(app, {
    method: "POST",
    url: "/authenticate",
    consumer,
    form: { username: user.username, password: user.password },
  });
  expect(login.statusCode).toBe(200);
});
