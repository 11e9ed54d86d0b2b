// Logs: pino JSON lines with the request id (an incoming x-request-id kept), and no
// password, token secret, consumer secret or Authorization header in any line.
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { LocalBus } from "@signet/shared/bus";
import { type ClientCredentials } from "@signet/shared/oauth";
import { useTestDatabase } from "@signet/test-support/db";
import { buildDataApp } from "../src/app.js";
import { seedConsumer, seedUser, signedRequest, testConfig, type SeededUser } from "./helpers.js";

const tdb = useTestDatabase();
const lines: string[] = [];
let app: FastifyInstance;
let consumer: ClientCredentials;
let user: SeededUser;

beforeAll(async () => {
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      callback();
    },
  });
  app = await buildDataApp({
    config: testConfig({ logLevel: "debug" }),
    db: tdb.db,
    bus: new LocalBus(),
    logger: { stream },
  });
  consumer = await seedConsumer(tdb.db);
  user = await seedUser(tdb.db, "s3cret-Passw0rd-do-not-log");
});
afterAll(async () => app?.close());

it("logs JSON with request ids and never a password, secret or Authorization header", async () => {
  const loginReq = signedRequest({
    method: "POST",
    url: "/authenticate",
    consumer,
    form: { username: user.username, password: user.password },
    headers: { "x-request-id": "login-req-1", cookie: "sid=abc-cookie-value" },
  });
  const login = await app.inject(loginReq);
  expect(login.statusCode).toBe(200);
  const { token, secret } = login.json();
  const meReq = signedRequest({ method: "GET", url: "/me", consumer, token: { key: token, secret } });
  expect((await app.inject(meReq)).statusCode).toBe(200);
  // failures are logged too
  const bad = signedRequest({
    method: "POST",
    url: "/authenticate",
    consumer,
    json: { username: user.username, password: "wrong-Passw0rd-also-secret" },
  });
  expect((await app.inject(bad)).statusCode).toBe(401);
  const badSig = signedRequest({
    method: "GET",
    url: "/me",
    consumer: { ...consumer, secret: "wrong" },
    token: { key: token, secret },
  });
  expect((await app.inject(badSig)).statusCode).toBe(401);

  expect(lines.length).toBeGreaterThan(4);
  const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(
    records.some((r) => (r.reqId ?? r.request_id) === "login-req-1" && r.msg === "login"),
    lines.slice(0, 6).join("\n"),
  ).toBe(true);
  expect(records.every((r) => r.name === "data" && typeof r.level === "number")).toBe(true);

  const all = lines.join("\n");
  for (const leaked of [
    user.password,
    "wrong-Passw0rd-also-secret",
    secret,
    consumer.secret,
    "abc-cookie-value",
    /oauth_signature="([^"]+)"/.exec(meReq.headers.authorization!)![1]!,
    "OAuth oauth_",
  ]) {
    expect(all).not.toContain(leaked);
  }
});

it("redacts an authorization or cookie header and a password if a handler ever logs them", () => {
  lines.length = 0;
  app.log.info(
    {
      req: { headers: { authorization: "OAuth x", cookie: "c" } },
      body: { password: "pw-in-body" },
      secret: "top",
    },
    "careless",
  );
  const all = lines.join("\n");
  expect(all).toContain("careless");
  for (const leaked of ["OAuth x", "pw-in-body", "top"]) expect(all).not.toContain(leaked);
});
