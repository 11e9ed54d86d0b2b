// The pod's side of the credential lifecycle (docs/design.md, "Credential lifecycle"):
// expiry judged on the database's clock however wrong the pod's own is, a cached entry that
// ends at the expiry with no event, tokens through an expired consumer refused, the
// not-before (event and database) refusing older tokens, and a token fill racing a
// not-before never re-inserting the stale entry.
import { afterEach, expect, it, vi } from "vitest";
import { sql } from "kysely";
import { SUBJECTS } from "@signet/shared/bus";
import { setNotBefore, updateConsumer } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { startDataPod } from "@signet/test-support/pods";
import { keyring } from "@signet/test-support/keys";
import { seedConsumer, seedToken, seedUser } from "@signet/test-support/seed";
import { problemOf, signedInject } from "@signet/test-support/signed";
import { sleep } from "@signet/test-support/wait";
import { CredentialCache } from "../src/plugins/credentials.js";

const tdb = useTestDatabase();
const { pod } = useDataPod(tdb, { listen: false });

const dbNow = async () =>
  (await sql<{ now: Date }>`select clock_timestamp() as now`.execute(tdb.db)).rows[0]!.now;
/**
 * A pod clock error inside the timestamp window (300 s: requests must still be fresh on the
 * database's clock) yet far larger than any expiry margin below.
 */
const SKEW = 200_000;

/** The pod's clock (Date.now, what it would compare against) off by `skewMs`. */
function skewPodClock(skewMs: number) {
  const real = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => real() + skewMs);
}
afterEach(() => {
  vi.restoreAllMocks();
  pod.app.credentials.clear();
});

/** Signed on the pod's clock (the skewed one, when skewed): the timestamp check is not what these test. */
const podTimestamp = () => Math.floor(Date.now() / 1000);

const me = (consumer: { key: string; secret: string }, token: { key: string; secret: string }) =>
  signedInject(pod.app, { method: "GET", url: "/me", consumer, token, timestamp: podTimestamp() });

it("a pod whose clock runs 200 s ahead still accepts a consumer that expires in 100 s (the database's clock)", async () => {
  const consumer = await seedConsumer(tdb.db);
  await updateConsumer(tdb.db, consumer.key, { expires_at: new Date((await dbNow()).getTime() + 100_000) });
  const user = await seedUser(tdb.db);
  skewPodClock(SKEW);
  const token = await seedToken(tdb.db, user, consumer);
  const res = await me(consumer, token);
  expect(res.statusCode, res.body).toBe(200);
});

it("a pod whose clock runs 200 s behind refuses a consumer that expired a minute ago, and its tokens", async () => {
  const consumer = await seedConsumer(tdb.db);
  const user = await seedUser(tdb.db);
  const token = await seedToken(tdb.db, user, consumer);
  await updateConsumer(tdb.db, consumer.key, { expires_at: new Date((await dbNow()).getTime() - 60_000) });
  skewPodClock(-SKEW);
  const res = await me(consumer, token);
  expect(res.statusCode).toBe(401);
  expect(problemOf(res.headers["www-authenticate"] as string)).toBe("consumer_key_rejected");
  expect(res.json().message).toMatch(/expired/);
  const twoLegged = await signedInject(pod.app, {
    method: "POST",
    url: "/users",
    consumer,
    json: {},
    timestamp: podTimestamp(),
  });
  expect(twoLegged.json()).toMatchObject({
    error: "consumer_key_rejected",
    message: "this consumer has expired",
  });
});

it("a cached consumer lapses at its expiry with no event, on a pod whose clock runs 200 s behind", async () => {
  const consumer = await seedConsumer(tdb.db);
  const user = await seedUser(tdb.db);
  const token = await seedToken(tdb.db, user, consumer);
  const at = new Date((await dbNow()).getTime() + 3_000);
  await updateConsumer(tdb.db, consumer.key, { expires_at: at });
  skewPodClock(-SKEW);
  expect((await me(consumer, token)).statusCode).toBe(200); // cached now, for up to 30 s
  while ((await dbNow()) <= at) await sleep(25);
  const res = await me(consumer, token);
  expect(res.statusCode).toBe(401);
  expect(res.json().message).toMatch(/expired/);
});

it("signet.tokens.not_before refuses every older token at once; newer ones and the database agree", async () => {
  const consumer = await seedConsumer(tdb.db);
  const user = await seedUser(tdb.db);
  const old = await seedToken(tdb.db, user, consumer);
  expect((await me(consumer, old)).statusCode).toBe(200); // cached
  const instant = await setNotBefore(tdb.db, { actor: "test", reason: "test" });
  await sleep(2);
  const fresh = await seedToken(tdb.db, user, consumer);
  await pod.bus.gather(
    SUBJECTS.tokensNotBefore,
    { issued_before: instant.toISOString(), at: "", actor: "t" },
    {
      windowMs: 200,
      expected: 1,
    },
  );
  expect(problemOf((await me(consumer, old)).headers["www-authenticate"] as string)).toBe("token_revoked");
  expect((await me(consumer, fresh)).statusCode).toBe(200);
  // without any cache (a restarted pod, a missed event): the database's not-before decides
  pod.app.credentials.clear();
  expect(problemOf((await me(consumer, old)).headers["www-authenticate"] as string)).toBe("token_revoked");
  expect((await me(consumer, fresh)).statusCode).toBe(200);
});

it("a token fill racing a not-before is dropped, never re-inserted", async () => {
  const consumer = await seedConsumer(tdb.db);
  const user = await seedUser(tdb.db);
  const token = await seedToken(tdb.db, user, consumer);
  const cache = new CredentialCache({ db: tdb.db, keyring, bus: pod.bus, maxAgeMs: 30_000, maxEntries: 100 });
  const { record } = (await cache.consumer(consumer.key))!;
  const lookup = cache.token(token.key, record); // reads the database…
  cache.applyNotBefore(new Date(Date.now() + 1_000)); // …while the not-before arrives
  await lookup;
  expect(cache.stats()).toMatchObject({ tokens: 0, staleFillsDropped: 1 });
  // and from memory alone, a token created before the not-before is refused
  const again = await cache.token(token.key, record);
  expect(again?.refused).toBe("token_revoked");
});

it("a pod writes the uses it saw when it closes, before its own pool closes (nothing waits for the timer)", async () => {
  const consumer = await seedConsumer(tdb.db);
  const user = await seedUser(tdb.db);
  const token = await seedToken(tdb.db, user, consumer);
  const closing = await startDataPod({ databaseUrl: tdb.url, listen: false, id: "pod-closing" });
  const res = await signedInject(closing.app, { method: "GET", url: "/me", consumer, token });
  expect(res.statusCode).toBe(200);
  const rows = () =>
    tdb.db.selectFrom("consumer_usage").selectAll().where("consumer_key", "=", consumer.key).execute();
  expect(await rows()).toEqual([]);
  await closing.close();
  expect(await rows()).toEqual([expect.objectContaining({ pod: "pod-closing" })]);
});
