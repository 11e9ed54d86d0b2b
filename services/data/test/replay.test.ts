// Replay protection is shared: one signed request sent to two instances that share a
// database is accepted exactly once; the other instance answers nonce_used.
import { expect, it, vi } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { seedConsumer } from "@signet/test-support/seed";
import { signedRequest } from "@signet/test-support/signed";
import type { PgNonceStore } from "../src/plugins/nonces.js";

const tdb = useTestDatabase();
// each instance has its own pool, as two pods would
const ownPool = (id: string) => () => ({ id, databaseUrl: tdb.url, listen: false });
const { pod: a, consumer, token } = useDataPod(tdb, ownPool("pod-a"));
const { pod: b } = useDataPod(tdb, ownPool("pod-b"));

it("a request replayed to the other instance is refused (sequentially)", async () => {
  for (let i = 0; i < 10; i++) {
    const req = signedRequest({ method: "GET", url: "/me", consumer, token });
    const [first, second] = i % 2 ? [a.app, b.app] : [b.app, a.app];
    expect((await first.inject(req)).statusCode).toBe(200);
    const replay = await second.inject(req);
    expect(replay.statusCode).toBe(401);
    expect(replay.headers["www-authenticate"]).toContain('oauth_problem="nonce_used"');
  }
});

it("the same request sent to both instances at once: exactly one succeeds, the other answers nonce_used", async () => {
  for (let i = 0; i < 25; i++) {
    const req =
      i % 2
        ? signedRequest({
            method: "POST",
            url: "/notes",
            consumer,
            token,
            json: { title: `n${i}`, body: "x" },
          })
        : signedRequest({ method: "GET", url: "/me", consumer, token });
    const results = await Promise.all([a.app.inject(req), b.app.inject(req), a.app.inject(req)]);
    const ok = results.filter((r) => r.statusCode < 300);
    const replayed = results.filter((r) => r.statusCode === 401 && r.json().error === "nonce_used");
    expect(ok).toHaveLength(1);
    expect(replayed).toHaveLength(2);
  }
  // every POST replay created nothing: one note per accepted request
  const notes = await tdb.db.selectFrom("notes").select("title").execute();
  expect(notes).toHaveLength(12);
});

it("a two-legged nonce and a three-legged nonce are separate; a consumer's nonce is its own", async () => {
  const other = await seedConsumer(tdb.db);
  const nonce = "shared-nonce-value";
  expect(
    (await a.app.inject(signedRequest({ method: "GET", url: "/me", consumer, token, nonce }))).statusCode,
  ).toBe(200);
  const login = await b.app.inject(
    signedRequest({
      method: "POST",
      url: "/authenticate",
      consumer: other,
      nonce,
      form: { username: "nobody", password: "whatever1" },
    }),
  );
  expect(login.json().error).toBe("invalid_credentials");
});

it("a pod whose clock runs ahead purges nothing another pod still needs: the replay is still refused", async () => {
  const req = signedRequest({ method: "GET", url: "/me", consumer, token });
  expect((await b.app.inject(req)).statusCode).toBe(200);
  // pod a's clock runs more than a window ahead when its purge runs (only Date is faked)
  const window = a.app.dataConfig.timestampWindow;
  vi.useFakeTimers({ toFake: ["Date"] });
  try {
    vi.setSystemTime(Date.now() + (window + 60) * 1000);
    await (a.app.nonces as PgNonceStore).purge();
  } finally {
    vi.useRealTimers();
  }
  // pod b's clock is right: the request's timestamp is inside its window, and the nonce row is still there
  const replay = await b.app.inject(req);
  expect(replay.statusCode, replay.body).toBe(401);
  expect(replay.json().error).toBe("nonce_used");
});
