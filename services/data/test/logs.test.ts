// Logs: pino JSON lines with the request id (an incoming x-request-id kept), and no
// password, token secret, consumer secret or Authorization header in any line.
import { Writable } from "node:stream";
import { expect, it } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { signedRequest } from "@signet/test-support/signed";
import { login } from "./helpers.js";

const lines: string[] = [];
const stream = new Writable({
  write(chunk, _encoding, callback) {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    callback();
  },
});
const tdb = useTestDatabase();
const { pod, consumer, user } = useDataPod(tdb, {
  listen: false,
  logger: { stream },
  config: { logLevel: "debug" },
  password: "s3cret-Passw0rd-do-not-log",
});

it("logs JSON with request ids and never a password, secret or Authorization header", async () => {
  const loggedIn = await pod.app.inject(
    signedRequest({
      ...login(consumer, user),
      headers: { "x-request-id": "login-req-1", cookie: "sid=abc-cookie-value" },
    }),
  );
  expect(loggedIn.statusCode).toBe(200);
  const { token, secret } = loggedIn.json();
  const meReq = signedRequest({ method: "GET", url: "/me", consumer, token: { key: token, secret } });
  expect((await pod.app.inject(meReq)).statusCode).toBe(200);
  // failures are logged too
  const bad = signedRequest({
    method: "POST",
    url: "/authenticate",
    consumer,
    json: { username: user.username, password: "wrong-Passw0rd-also-secret" },
  });
  expect((await pod.app.inject(bad)).statusCode).toBe(401);
  const badSig = signedRequest({
    method: "GET",
    url: "/me",
    consumer: { ...consumer, secret: "wrong" },
    token: { key: token, secret },
  });
  expect((await pod.app.inject(badSig)).statusCode).toBe(401);

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
  pod.app.log.info(
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
