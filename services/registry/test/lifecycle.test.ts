// The credential lifecycle across three real data pods (each with its own pool and NATS
// connection, on this file's nats-server), a registry, real PostgreSQL: expiry without an
// event, last used per secret, rotations ended by hand and by themselves, narrowing confirmed
// before the answer, tokens revoked per consumer and per user, the emergency not-before —
// and, under load, that no request sent after an answer is served from a stale entry.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { type ClientCredentials } from "@signet/shared/oauth";
import { useTestDatabase } from "@signet/test-support/db";
import { usePrivateNats } from "@signet/test-support/hooks";
import { metricValue } from "@signet/test-support/metrics";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedToken, seedUser, type SeededUser } from "@signet/test-support/seed";
import { signedFetch, type Answer, type SignedOptions } from "@signet/test-support/signed";
import { sleep, waitFor } from "@signet/test-support/wait";
import { admin, startRegistry } from "./helpers.js";

const tdb = useTestDatabase();
const nats = usePrivateNats();

let pods: DataPod[] = [];
let registry: FastifyInstance;
let person: SeededUser;

beforeAll(async () => {
  pods = await Promise.all(
    ["life-a", "life-b", "life-c"].map((id) => startDataPod({ id, databaseUrl: tdb.url, natsUrl: nats.url })),
  );
  registry = await startRegistry({
    databaseUrl: tdb.url,
    natsUrl: nats.url,
    // a long interval: the tests drive the lifecycle timer with tick()
    config: { confirmWindowMs: 2_000, confirmExpected: 3, lifecycleIntervalMs: 600_000 },
  });
  person = await seedUser(tdb.db, { username: "lifer", password: "lifer-password" });
});
afterAll(async () => {
  await registry?.close();
  await Promise.all(pods.map((pod) => pod.close()));
});

type Call = Omit<SignedOptions, "origin" | "consumer" | "token">;
const ME: Call = { method: "GET", url: "/me" };
const NOTES: Call = { method: "GET", url: "/notes" };

const send = (pod: DataPod, consumer: ClientCredentials, token: ClientCredentials | null, call: Call = ME) =>
  signedFetch(pod.url, { ...call, consumer, token });

async function statuses(consumer: ClientCredentials, token: ClientCredentials | null, call: Call = ME) {
  return Promise.all(pods.map(async (pod) => (await send(pod, consumer, token, call)).status));
}

async function newConsumer(name: string, extra: Record<string, unknown> = {}): Promise<ClientCredentials> {
  const res = await admin<{ key: string; secret: string }>(registry, "POST", "/consumers", {
    name,
    scopes: ["*"],
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { key: res.body.key, secret: res.body.secret };
}

const dbNow = async () =>
  (await sql<{ now: Date }>`select clock_timestamp() as now`.execute(tdb.db)).rows[0]!.now;

/**
 * Requests from every pod in a loop while `act` runs; returns the answers sent after `act`
 * answered (at least `perPod` per pod) and what `act` returned.
 */
async function underLoad<T extends { answeredAt: number }>(
  request: (pod: DataPod) => Promise<Answer>,
  act: () => Promise<T>,
  perPod = 3,
): Promise<{ after: (Answer & { pod: string })[]; acted: T }> {
  const answers: (Answer & { pod: string })[] = [];
  const failures: unknown[] = [];
  let stop = false;
  const loops = pods.map(async (pod) => {
    while (!stop) {
      try {
        answers.push({ ...(await request(pod)), pod: pod.id });
      } catch (error) {
        failures.push(error);
        stop = true;
      }
    }
  });
  let acted: T;
  try {
    await sleep(5);
    acted = await act();
    await waitFor(
      `${perPod} requests per pod after the answer`,
      () =>
        stop ||
        pods.every(
          (pod) => answers.filter((a) => a.pod === pod.id && a.sentAt > acted.answeredAt).length >= perPod,
        ),
    );
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  expect(failures).toEqual([]);
  return { after: answers.filter((a) => a.sentAt > acted!.answeredAt), acted: acted! };
}

const lastAudit = async (action: string, target: string) =>
  tdb.db
    .selectFrom("audit_events")
    .selectAll()
    .where("action", "=", action)
    .where("target", "=", target)
    .orderBy("id", "desc")
    .executeTakeFirst();

describe("expiry", () => {
  it("from expires_at on (the database's clock), every pod refuses the consumer and its tokens, with no event", async () => {
    const at = new Date((await dbNow()).getTime() + 3_000);
    const consumer = await newConsumer("expiring", { expires_at: at.toISOString() });
    const token = await seedToken(tdb.db, person, consumer, 600);
    expect(await statuses(consumer, token)).toEqual([200, 200, 200]); // cached on every pod

    const listed = await admin<{ consumers: { key: string; expires_at: string }[] }>(
      registry,
      "GET",
      "/consumers?expiring_within=1h",
    );
    expect(listed.body.consumers.map((c) => c.key)).toContain(consumer.key);
    expect(listed.body.consumers.find((c) => c.key === consumer.key)!.expires_at).toBe(at.toISOString());
    const later = await newConsumer("expiring-later", {
      expires_at: new Date(at.getTime() + 2 * 86_400_000).toISOString(),
    });
    const keys = async (within: string) =>
      (
        await admin<{ consumers: { key: string }[] }>(registry, "GET", `/consumers?expiring_within=${within}`)
      ).body.consumers.map((c) => c.key);
    expect(await keys("1h")).not.toContain(later.key);
    expect(await keys("3d")).toContain(later.key);
    expect((await admin(registry, "GET", "/consumers?expiring_within=soon")).status).toBe(400);

    const events = await Promise.all(
      pods.map((pod) => metricValue(pod.app, "signet_revocation_events_total")),
    );
    while ((await dbNow()) < at) await sleep(50);
    for (const pod of pods) {
      const consumerOnly = await send(pod, consumer, null, { method: "POST", url: "/users", json: {} });
      expect(consumerOnly.status, pod.id).toBe(401);
      expect(consumerOnly.problem).toBe("consumer_key_rejected");
      expect(JSON.parse(consumerOnly.body).message).toMatch(/expired/);
      const withToken = await send(pod, consumer, token);
      expect(withToken.status, pod.id).toBe(401);
      expect(withToken.problem).toBe("consumer_key_rejected");
    }
    // nothing was announced: each pod judged the expiry by itself
    expect(
      await Promise.all(pods.map((pod) => metricValue(pod.app, "signet_revocation_events_total"))),
    ).toEqual(events);
    // and no longer "about to lapse"
    const after = await admin<{ consumers: { key: string }[] }>(
      registry,
      "GET",
      "/consumers?expiring_within=1h",
    );
    expect(after.body.consumers.map((c) => c.key)).not.toContain(consumer.key);
  });

  it("PATCH sets and clears expires_at, confirmed by every pod before the answer", async () => {
    const consumer = await newConsumer("patched-expiry");
    expect(await statuses(consumer, null, { method: "POST", url: "/users", json: {} })).toEqual([
      400, 400, 400,
    ]);
    const past = new Date(Date.now() - 60_000).toISOString();
    const expired = await admin<{ expires_at: string; confirmed_pods: number }>(
      registry,
      "PATCH",
      `/consumers/${consumer.key}`,
      { expires_at: past },
    );
    expect(expired.status).toBe(200);
    expect(expired.body).toMatchObject({ expires_at: past, confirmed_pods: 3 });
    expect(await statuses(consumer, null, { method: "POST", url: "/users", json: {} })).toEqual([
      401, 401, 401,
    ]);
    const cleared = await admin(registry, "PATCH", `/consumers/${consumer.key}`, { expires_at: null });
    expect(cleared.body).toMatchObject({ expires_at: null, confirmed_pods: 3 });
    expect(await statuses(consumer, null, { method: "POST", url: "/users", json: {} })).toEqual([
      400, 400, 400,
    ]);
    const audit = await lastAudit("consumer.update", consumer.key);
    expect(audit!.details).toMatchObject({ expires_at: null, previous_expires_at: past, confirmed_pods: 3 });
    expect((await admin(registry, "PATCH", `/consumers/${consumer.key}`, {})).status).toBe(400);
    expect(
      (await admin(registry, "PATCH", `/consumers/${consumer.key}`, { expires_at: "tomorrow" })).status,
    ).toBe(400);
  });
});

describe("last used, per secret", () => {
  it("shows when and on which pod each live secret was last used, to the second", async () => {
    const consumer = await newConsumer("used");
    const token = await seedToken(tdb.db, person, consumer, 600);
    const shown = () =>
      admin<{
        last_used: { at: string; pod: string } | null;
        secrets: { id: string; ends_at: string | null; last_used: { at: string; pod: string } | null }[];
      }>(registry, "GET", `/consumers/${consumer.key}`);
    expect((await shown()).body.last_used).toBeNull();

    const before = await dbNow();
    expect((await send(pods[0]!, consumer, token)).status).toBe(200);
    await Promise.all(pods.map((pod) => pod.app.lastUsed.flush()));
    const first = (await shown()).body;
    expect(first.last_used).toEqual({ at: expect.stringMatching(/T\d\d:\d\d:\d\d\.000Z$/), pod: "life-a" });
    expect(new Date(first.last_used!.at).getTime()).toBeGreaterThanOrEqual(
      Math.floor(before.getTime() / 1000) * 1000,
    );
    expect(first.secrets).toHaveLength(1);
    expect(first.secrets[0]!.last_used).toEqual(first.last_used);

    // a rotation with grace: the old secret used on pod b, the new one on pod c, a second later
    await sleep(1_100);
    const rotated = await admin<{ secret: string }>(registry, "POST", `/consumers/${consumer.key}/rotate`, {
      grace_seconds: 3600,
    });
    const fresh = { key: consumer.key, secret: rotated.body.secret };
    expect((await send(pods[1]!, consumer, token)).status).toBe(200);
    expect((await send(pods[2]!, fresh, token)).status).toBe(200);
    await Promise.all(pods.map((pod) => pod.app.lastUsed.flush()));
    const during = (await shown()).body;
    expect(during.secrets).toHaveLength(2);
    expect(during.secrets[0]).toMatchObject({ ends_at: null, last_used: { pod: "life-c" } });
    expect(during.secrets[1]).toMatchObject({ id: first.secrets[0]!.id, last_used: { pod: "life-b" } });
    expect(during.secrets[1]!.ends_at).not.toBeNull();
  });

  it("a pod writes at most one row per secret per flush and the hot path never waits for it", async () => {
    const consumer = await newConsumer("busy");
    const token = await seedToken(tdb.db, person, consumer, 600);
    const pod = pods[0]!;
    await pod.app.lastUsed.flush();
    const written = await metricValue(pod.app, "signet_last_used_rows_written_total");
    for (let i = 0; i < 20; i++) expect((await send(pod, consumer, token)).status).toBe(200);
    expect(pod.app.lastUsed.size).toBe(1);
    await pod.app.lastUsed.flush();
    expect((await metricValue(pod.app, "signet_last_used_rows_written_total")) - written).toBe(1);
  });
});

describe("rotation", () => {
  it("rotate/finish: the old secret is refused on every pod from the answer on; answer and audit count 3 pods", async () => {
    const old = await newConsumer("finishing");
    const token = await seedToken(tdb.db, person, old, 600);
    const rotated = await admin<{ secret: string }>(registry, "POST", `/consumers/${old.key}/rotate`, {
      grace_seconds: 3600,
    });
    const fresh = { key: old.key, secret: rotated.body.secret };
    expect(await statuses(old, token)).toEqual([200, 200, 200]);

    const { after, acted } = await underLoad(
      (pod) => send(pod, old, token),
      () =>
        admin<{ key: string; confirmed_pods: number }>(
          registry,
          "POST",
          `/consumers/${old.key}/rotate/finish`,
        ),
    );
    expect(acted.status).toBe(200);
    expect(acted.body).toEqual({ key: old.key, confirmed_pods: 3 });
    expect(after.filter((a) => a.status !== 401)).toEqual([]);
    expect(new Set(after.map((a) => a.problem))).toEqual(new Set(["signature_invalid"]));
    expect(await statuses(fresh, token)).toEqual([200, 200, 200]);
    expect((await lastAudit("consumer.rotate_finish", old.key))!.details).toMatchObject({
      reason: "by_hand",
      confirmed_pods: 3,
    });
  });

  it("finish_when_quiet: the grace ends by itself once the old secret went quiet, announced once by two registries", async () => {
    const old = await newConsumer("quiet");
    const token = await seedToken(tdb.db, person, old, 600);
    const bad = await admin(registry, "POST", `/consumers/${old.key}/rotate`, {
      finish_when_quiet_seconds: 1,
    });
    expect(bad.status).toBe(400);
    const rotated = await admin<{ secret: string }>(registry, "POST", `/consumers/${old.key}/rotate`, {
      grace_seconds: 3600,
      finish_when_quiet_seconds: 1,
    });
    expect(rotated.status).toBe(200);
    const fresh = { key: old.key, secret: rotated.body.secret };
    expect((await send(pods[1]!, old, token)).status).toBe(200);
    await Promise.all(pods.map((pod) => pod.app.lastUsed.flush()));

    const second = await startRegistry({
      databaseUrl: tdb.url,
      natsUrl: nats.url,
      config: { confirmWindowMs: 2_000, confirmExpected: 3, lifecycleIntervalMs: 600_000 },
    });
    try {
      // still in use as far as the pods reported: nothing ends
      expect(await registry.lifecycle.tick()).toBe(0);
      expect(await statuses(old, token)).toEqual([200, 200, 200]);
      let ended = 0;
      await waitFor(
        "the rotation to end by itself",
        async () => {
          const [a, b] = await Promise.all([registry.lifecycle.tick(), second.lifecycle.tick()]);
          ended += a + b;
          return ended > 0;
        },
        20_000,
        200,
      );
      expect(ended).toBe(1);
      expect(await Promise.all([registry.lifecycle.tick(), second.lifecycle.tick()])).toEqual([0, 0]);
    } finally {
      await second.close();
    }
    const audits = await tdb.db
      .selectFrom("audit_events")
      .selectAll()
      .where("action", "=", "consumer.rotate_finish")
      .where("target", "=", old.key)
      .execute();
    expect(audits).toHaveLength(1);
    expect(audits[0]!.details).toMatchObject({ reason: "quiet", confirmed_pods: 3 });
    expect(audits[0]!.actor).toBe("signet-lifecycle");
    expect((await statuses(old, token)).every((s) => s === 401)).toBe(true);
    expect(await statuses(fresh, token)).toEqual([200, 200, 200]);
  }, 30_000);

  it("rotating twice in a row: the first secret is refused on every pod from the second answer on", async () => {
    const first = await newConsumer("twice");
    const token = await seedToken(tdb.db, person, first, 600);
    const r1 = await admin<{ secret: string }>(registry, "POST", `/consumers/${first.key}/rotate`, {
      grace_seconds: 3600,
    });
    const secondSecret = { key: first.key, secret: r1.body.secret };
    expect(await statuses(first, token)).toEqual([200, 200, 200]);
    const { after, acted } = await underLoad(
      (pod) => send(pod, first, token),
      () =>
        admin<{ secret: string }>(registry, "POST", `/consumers/${first.key}/rotate`, {
          grace_seconds: 3600,
        }),
    );
    expect(acted.status).toBe(200);
    expect(after.filter((a) => a.status !== 401)).toEqual([]);
    // the second secret is now the old one in its grace, the third the current one
    expect(await statuses(secondSecret, token)).toEqual([200, 200, 200]);
    expect(await statuses({ key: first.key, secret: acted.body.secret }, token)).toEqual([200, 200, 200]);
  });
});

describe("narrowing", () => {
  it("PATCH with fewer scopes: confirmed before the answer, refused on every pod right after, under load", async () => {
    const consumer = await newConsumer("narrowed");
    const token = await seedToken(tdb.db, person, consumer, 600);
    expect(await statuses(consumer, token, NOTES)).toEqual([200, 200, 200]);
    const { after, acted } = await underLoad(
      (pod) => send(pod, consumer, token, NOTES),
      () =>
        admin<{ scopes: string[]; confirmed_pods: number }>(registry, "PATCH", `/consumers/${consumer.key}`, {
          scopes: ["authenticate"],
        }),
    );
    expect(acted.status).toBe(200);
    expect(acted.body).toMatchObject({ scopes: ["authenticate"], confirmed_pods: 3 });
    expect(after.filter((a) => a.status !== 403)).toEqual([]);
    expect(new Set(after.map((a) => JSON.parse(a.body).error))).toEqual(new Set(["insufficient_scope"]));
    expect((await lastAudit("consumer.update", consumer.key))!.details).toMatchObject({
      narrowed: true,
      previous_scopes: ["*"],
      confirmed_pods: 3,
    });
    // widening is announced and in force too
    const widened = await admin(registry, "PATCH", `/consumers/${consumer.key}`, { scopes: ["notes:read"] });
    expect(widened.body).toMatchObject({ confirmed_pods: 3 });
    expect(await statuses(consumer, token, NOTES)).toEqual([200, 200, 200]);
    expect((await admin(registry, "PATCH", `/consumers/${consumer.key}`, { scopes: ["root"] })).status).toBe(
      400,
    );
  });
});

describe("killing tokens", () => {
  it("POST /consumers/:key/tokens/revoke ends every token through it on every pod; the consumer stays", async () => {
    const consumer = await newConsumer("token-killer");
    const tokens = await Promise.all([1, 2].map(() => seedToken(tdb.db, person, consumer, 600)));
    for (const token of tokens) expect(await statuses(consumer, token)).toEqual([200, 200, 200]);
    const { after, acted } = await underLoad(
      (pod) => send(pod, consumer, tokens[0]!),
      () =>
        admin<{ key: string; revoked_tokens: number; confirmed_pods: number }>(
          registry,
          "POST",
          `/consumers/${consumer.key}/tokens/revoke`,
          { reason: "leaked session store" },
        ),
    );
    expect(acted.body).toEqual({ key: consumer.key, revoked_tokens: 2, confirmed_pods: 3 });
    expect(new Set(after.map((a) => a.problem))).toEqual(new Set(["token_revoked"]));
    expect(await statuses(consumer, tokens[1]!)).toEqual([401, 401, 401]);
    expect(await statuses(consumer, null, { method: "POST", url: "/users", json: {} })).toEqual([
      400, 400, 400,
    ]);
    expect((await lastAudit("consumer.tokens_revoke", consumer.key))!.details).toMatchObject({
      tokens_revoked: 2,
      reason: "leaked session store",
      confirmed_pods: 3,
    });
  });

  it("POST /users/:username/tokens/revoke signs the user out everywhere; a new login works", async () => {
    const consumer = await newConsumer("signout");
    const user = await seedUser(tdb.db, { username: "signed-out", password: "signed-out-password" });
    const token = await seedToken(tdb.db, user, consumer, 600);
    expect(await statuses(consumer, token)).toEqual([200, 200, 200]);
    const { after, acted } = await underLoad(
      (pod) => send(pod, consumer, token),
      () =>
        admin<{ username: string; revoked_tokens: number; confirmed_pods: number }>(
          registry,
          "POST",
          "/users/signed-out/tokens/revoke",
        ),
    );
    expect(acted.body).toEqual({ username: "signed-out", revoked_tokens: 1, confirmed_pods: 3 });
    expect(new Set(after.map((a) => a.problem))).toEqual(new Set(["token_revoked"]));
    const login = await send(pods[0]!, consumer, null, {
      method: "POST",
      url: "/authenticate",
      form: { username: "signed-out", password: "signed-out-password" },
    });
    expect(login.status).toBe(200);
    const fresh = JSON.parse(login.body) as { token: string; secret: string };
    expect(await statuses(consumer, { key: fresh.token, secret: fresh.secret })).toEqual([200, 200, 200]);
    expect((await admin(registry, "POST", "/users/nobody-here/tokens/revoke")).status).toBe(404);
  });

  it("disable then re-enable: the old tokens stay dead on every pod, a new login works", async () => {
    const consumer = await newConsumer("reenable");
    const user = await seedUser(tdb.db, { username: "flipper", password: "flipper-password" });
    const token = await seedToken(tdb.db, user, consumer, 600);
    expect(await statuses(consumer, token)).toEqual([200, 200, 200]);
    expect((await admin(registry, "POST", "/users/flipper/disable")).body).toMatchObject({
      confirmed_pods: 3,
    });
    expect(await statuses(consumer, token)).toEqual([401, 401, 401]);
    const enabled = await admin(registry, "POST", "/users/flipper/enable");
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ username: "flipper", status: "active" });
    // the old token stays dead everywhere; a new login works everywhere
    expect(await statuses(consumer, token)).toEqual([401, 401, 401]);
    const login = await send(pods[1]!, consumer, null, {
      method: "POST",
      url: "/authenticate",
      form: { username: "flipper", password: "flipper-password" },
    });
    expect(login.status).toBe(200);
    const fresh = JSON.parse(login.body) as { token: string; secret: string };
    expect(await statuses(consumer, { key: fresh.token, secret: fresh.secret })).toEqual([200, 200, 200]);
    expect((await lastAudit("user.enable", "flipper"))!.actor).toBe("alice-ops");
  });
});

describe("revoke, then the same name again", () => {
  it("the name stays taken; the revoked key stays refused on every pod, and a new consumer is unaffected", async () => {
    const first = await newConsumer("reborn");
    const token = await seedToken(tdb.db, person, first, 600);
    expect(await statuses(first, token)).toEqual([200, 200, 200]);
    const revoked = await admin(registry, "POST", `/consumers/${first.key}/revoke`, { reason: "rebuilt" });
    expect(revoked.body).toMatchObject({ confirmed_pods: 3 });
    expect((await admin(registry, "POST", "/consumers", { name: "reborn", scopes: ["*"] })).status).toBe(409);
    const second = await newConsumer("reborn-2");
    const secondToken = await seedToken(tdb.db, person, second, 600);
    expect(await statuses(second, secondToken)).toEqual([200, 200, 200]);
    for (const pod of pods)
      expect((await send(pod, first, token)).problem, pod.id).toBe("consumer_key_rejected");
  });
});

describe("revoke-all", () => {
  it("every token issued before the instant is refused on every pod, racing logins included; consumers untouched", async () => {
    const consumer = await newConsumer("emergency");
    const old = await seedToken(tdb.db, person, consumer, 600);
    expect(await statuses(consumer, old)).toEqual([200, 200, 200]);

    // logins racing the revoke-all, on every pod
    const issued: ClientCredentials[] = [];
    let stop = false;
    const logins = pods.map(async (pod) => {
      while (!stop) {
        const res = await send(pod, consumer, null, {
          method: "POST",
          url: "/authenticate",
          form: { username: "lifer", password: "lifer-password" },
        });
        expect(res.status).toBe(200);
        const body = JSON.parse(res.body) as { token: string; secret: string };
        issued.push({ key: body.token, secret: body.secret });
      }
    });
    let res: Awaited<ReturnType<typeof admin<{ issued_before: string; confirmed_pods: number }>>>;
    try {
      await waitFor("a few logins", () => issued.length >= 3);
      res = await admin(registry, "POST", "/revoke-all", {
        issued_before: "now",
        reason: "signing key leaked",
      });
      await waitFor("logins after the answer", () => issued.length >= 12, 20_000);
    } finally {
      stop = true;
      await Promise.all(logins);
    }
    expect(res.status).toBe(200);
    expect(res.body.confirmed_pods).toBe(3);
    const cutoff = res.body.issued_before;

    // each token: refused on every pod if created before the cutoff, accepted everywhere otherwise
    const created = new Map(
      (
        await tdb.db
          .selectFrom("access_tokens")
          .select(["token", sql<boolean>`created_at < ${cutoff}::timestamptz`.as("before")])
          .where(
            "token",
            "in",
            issued.map((t) => t.key),
          )
          .execute()
      ).map((r) => [r.token, r.before]),
    );
    let before = 0;
    for (const token of [old, ...issued]) {
      const dead = token === old || created.get(token.key) === true;
      if (dead) before++;
      expect(await statuses(consumer, token), `${token.key} dead=${dead}`).toEqual(
        dead ? [401, 401, 401] : [200, 200, 200],
      );
    }
    expect(before).toBeGreaterThanOrEqual(4);
    expect(before).toBeLessThan(issued.length + 1);

    // a pod started afterwards reads the not-before from the database
    const late = await startDataPod({ id: "life-late", databaseUrl: tdb.url, natsUrl: nats.url });
    try {
      expect((await send(late, consumer, old)).problem).toBe("token_revoked");
    } finally {
      await late.close();
    }
    // the consumer itself is untouched
    expect(await statuses(consumer, null, { method: "POST", url: "/users", json: {} })).toEqual([
      400, 400, 400,
    ]);

    // never backwards, never in the future
    const earlier = await admin<{ issued_before: string }>(registry, "POST", "/revoke-all", {
      issued_before: "2020-01-01T00:00:00Z",
      reason: "older",
    });
    expect(earlier.body.issued_before).toBe(cutoff);
    const future = await admin(registry, "POST", "/revoke-all", {
      issued_before: new Date(Date.now() + 3_600_000).toISOString(),
      reason: "future",
    });
    expect(future.status).toBe(400);
    const audit = await lastAudit("tokens.revoke_all", "*");
    expect(audit!.details).toMatchObject({ reason: "older", confirmed_pods: 3 });
  }, 60_000);
});

describe("metrics", () => {
  it("announcements by kind with their confirmation latency; consumers by state; seconds since last use", async () => {
    expect(
      await metricValue(registry, "signet_registry_lifecycle_announcements_total", { kind: "revoke_all" }),
    ).toBeGreaterThan(0);
    expect(
      await metricValue(registry, "signet_registry_lifecycle_announcements_total", {
        kind: "rotate_finish",
      }),
    ).toBe(1);
    expect(
      await metricValue(registry, "signet_registry_consumers", { state: "expired" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await metricValue(registry, "signet_registry_consumers", { state: "active" }),
    ).toBeGreaterThanOrEqual(1);
    const text = await registry.metrics.metrics();
    expect(text).toMatch(
      /signet_registry_confirmation_seconds_count\{[^}]*kind="narrow_scopes"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(/signet_registry_consumer_last_used_age_seconds\{key="ck_[^"]+"[^}]*\} \d/);
  });
});
