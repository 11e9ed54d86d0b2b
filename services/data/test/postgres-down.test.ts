// PostgreSQL unreachable (a TCP proxy in front of it is cut): 503 unavailable, no crash,
// readiness false; everything works again once it is restored. Fail closed: cached
// credentials do not let a request through while the database is gone.
import { afterAll, beforeAll, expect, it } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { startTcpProxy, type TcpProxy } from "@signet/test-support/net";
import { signedInject } from "@signet/test-support/signed";
import { login } from "./helpers.js";

const tdb = useTestDatabase();
let proxy: TcpProxy;
beforeAll(async () => {
  const target = new URL(tdb.url);
  proxy = await startTcpProxy(Number(target.port || 5432), target.hostname);
});
afterAll(async () => {
  await proxy?.close();
});
// the app's own pool, through the proxy
const { pod, consumer, user, token } = useDataPod(tdb, () => ({
  listen: false,
  databaseUrl: proxy.via(tdb.url),
}));

it("answers 503 unavailable while PostgreSQL is unreachable and recovers when it returns", async () => {
  const me = () => signedInject(pod.app, { method: "GET", url: "/me", consumer, token });
  expect((await me()).statusCode).toBe(200); // credentials now cached

  proxy.cut();
  for (const res of await Promise.all([
    me(),
    me(),
    signedInject(pod.app, { method: "GET", url: "/notes", consumer, token }),
    signedInject(pod.app, login(consumer, user)),
    signedInject(pod.app, {
      method: "POST",
      url: "/users",
      consumer,
      json: { username: "while_down", password: "password123", display_name: "D" },
    }),
  ])) {
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json()).toEqual({ error: "unavailable", message: expect.any(String) });
  }
  const ready = await pod.app.inject({ method: "GET", url: "/readyz" });
  expect(ready.statusCode).toBe(503);
  expect(ready.json()).toMatchObject({ failed: "database" });
  expect((await pod.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200); // alive, not ready

  proxy.restore();
  await expect.poll(async () => (await me()).statusCode, { timeout: 10_000, interval: 100 }).toBe(200);
  expect((await pod.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  expect((await signedInject(pod.app, login(consumer, user))).statusCode).toBe(200);
});
