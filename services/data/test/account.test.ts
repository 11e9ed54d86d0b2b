// The user's own account on the data API (docs/api.md, "Account"), across two pods on a
// private NATS: PATCH /me; POST /me/password (validated, a wrong current password a throttled
// failed login, every other token dead on both pods, this one alive, the events published
// from the outbox); POST /logout {"everywhere": true} (every token, this one included).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsBus, SUBJECTS, type Bus } from "@signet/shared/bus";
import type { ClientCredentials } from "@signet/shared/oauth";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod, usePrivateNats } from "@signet/test-support/hooks";
import { sealed } from "@signet/test-support/keys";
import type { DataPod } from "@signet/test-support/pods";
import { seedToken, seedUser, type SeededUser } from "@signet/test-support/seed";
import { signedInject } from "@signet/test-support/signed";
import { login } from "./helpers.js";

const tdb = useTestDatabase();
const nats = usePrivateNats();
const LIMIT = 4;
const onNats = (id: string) => () => ({
  id,
  databaseUrl: tdb.url,
  natsUrl: nats.url,
  listen: false,
  config: { loginLimitPerUser: LIMIT },
});
const { pod: a, consumer } = useDataPod(tdb, onNats("pod-a"));
const { pod: b } = useDataPod(tdb, onNats("pod-b"));

let listener: Bus; // hears what the pods announce
const heard: { token: string; at: string }[] = [];
beforeAll(async () => {
  listener = sealed(await NatsBus.connect({ servers: nats.url, name: "test-listener" }));
  listener.subscribe(SUBJECTS.tokenRevoked, (payload) => {
    heard.push(payload as { token: string; at: string });
  });
});
afterAll(async () => {
  await listener?.close();
});

const me = (pod: DataPod, token: ClientCredentials) =>
  signedInject(pod.app, { method: "GET", url: "/me", consumer, token });
const outcome = (res: Awaited<ReturnType<typeof me>>) =>
  res.statusCode === 200 || res.statusCode === 204 ? "ok" : (res.json() as { error: string }).error;

/** A user with `n` tokens, each used on both pods (so both caches hold them). */
async function userWithTokens(n: number): Promise<{ user: SeededUser; tokens: ClientCredentials[] }> {
  const user = await seedUser(tdb.db);
  const tokens: ClientCredentials[] = [];
  for (let i = 0; i < n; i++) tokens.push(await seedToken(tdb.db, user, consumer));
  for (const pod of [a, b]) for (const t of tokens) expect(outcome(await me(pod, t))).toBe("ok");
  return { user, tokens };
}

const changePassword = (pod: DataPod, token: ClientCredentials, body: Record<string, unknown>) =>
  signedInject(pod.app, { method: "POST", url: "/me/password", consumer, token, json: body });

describe("PATCH /me", () => {
  it("changes the display name, validated", async () => {
    const { tokens } = await userWithTokens(1);
    const token = tokens[0]!;
    const res = await signedInject(a.app, {
      method: "PATCH",
      url: "/me",
      consumer,
      token,
      json: { display_name: "Ada Lovelace" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ display_name: "Ada Lovelace" });
    expect((await me(a, token)).json()).toMatchObject({ display_name: "Ada Lovelace" });
    for (const display_name of ["", "x".repeat(101), "line\nbreak", "bidi\u202Eoverride", null]) {
      const bad = await signedInject(a.app, {
        method: "PATCH",
        url: "/me",
        consumer,
        token,
        json: { display_name },
      });
      expect(bad.statusCode, JSON.stringify(display_name)).toBe(400);
      expect(bad.json()).toMatchObject({ error: "invalid_input" });
    }
    const none = await signedInject(a.app, { method: "PATCH", url: "/me", consumer, token, json: {} });
    expect(none.statusCode).toBe(400);
  });

  it("needs the user's token", async () => {
    const res = await signedInject(a.app, {
      method: "PATCH",
      url: "/me",
      consumer,
      json: { display_name: "nobody" },
    });
    expect(res.statusCode).toBe(401);
  });
});

describe("POST /me/password", () => {
  it("refuses a new password that is short, the username or contains it (400), and a wrong current one (401)", async () => {
    const { user, tokens } = await userWithTokens(1);
    const token = tokens[0]!;
    for (const new_password of ["short", user.username, `my-${user.username.toUpperCase()}-pw`]) {
      const res = await changePassword(a, token, { current_password: user.password, new_password });
      expect(res.statusCode, new_password).toBe(400);
      expect(res.json()).toMatchObject({ error: "invalid_input" });
    }
    const wrong = await changePassword(a, token, {
      current_password: "not the password",
      new_password: "a brand new passphrase",
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: "invalid_credentials" });
    // nothing changed
    expect((await signedInject(a.app, login(consumer, user))).statusCode).toBe(200);
  });

  it("kills every other token on both pods, keeps this one, and the new password logs in", async () => {
    const { user, tokens } = await userWithTokens(3);
    const [mine, laptop, phone] = tokens as [ClientCredentials, ClientCredentials, ClientCredentials];
    const bystander = (await userWithTokens(1)).tokens[0]!;
    heard.length = 0;
    const res = await changePassword(b, mine, {
      current_password: user.password,
      new_password: "a brand new passphrase",
    });
    expect(res.statusCode).toBe(204);

    // pod a cached laptop and phone: the events make it forget them
    await expect
      .poll(async () => [outcome(await me(a, laptop)), outcome(await me(a, phone))])
      .toEqual(["token_revoked", "token_revoked"]);
    for (const pod of [a, b]) {
      expect(outcome(await me(pod, laptop))).toBe("token_revoked");
      expect(outcome(await me(pod, phone))).toBe("token_revoked");
      expect(outcome(await me(pod, mine))).toBe("ok");
      expect(outcome(await me(pod, bystander))).toBe("ok");
    }
    // one signet.token.revoked per revoked token, and the outbox rows marked published
    expect(new Set(heard.map((e) => e.token))).toEqual(new Set([laptop.key, phone.key]));
    const rows = await tdb.db
      .selectFrom("outbox")
      .select(["payload", "published_at"])
      .where("subject", "=", SUBJECTS.tokenRevoked)
      .execute();
    const forThese = rows.filter((r) => [laptop.key, phone.key].includes(String(r.payload.token)));
    expect(forThese).toHaveLength(2);
    expect(forThese.every((r) => r.published_at !== null)).toBe(true);

    expect((await signedInject(a.app, login(consumer, user))).statusCode).toBe(401);
    const fresh = await signedInject(a.app, login(consumer, { ...user, password: "a brand new passphrase" }));
    expect(fresh.statusCode).toBe(200);
  });

  it("a wrong current password is a failed login: it spends the same shared budget", async () => {
    const { user, tokens } = await userWithTokens(1);
    const token = tokens[0]!;
    const wrong = { current_password: "guess", new_password: "a brand new passphrase" };
    // failures through both pods and through /authenticate count together
    for (let i = 0; i < LIMIT - 1; i++) {
      expect(outcome(await changePassword(i % 2 ? a : b, token, wrong))).toBe("invalid_credentials");
    }
    expect((await signedInject(a.app, login(consumer, { ...user, password: "guess" }))).statusCode).toBe(401);
    const limited = await changePassword(a, token, { ...wrong, current_password: user.password });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: "rate_limited" });
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect((await signedInject(b.app, login(consumer, user))).statusCode).toBe(429);
    // the token still works: a throttled password change changes nothing
    expect(outcome(await me(a, token))).toBe("ok");
  });

  it("the right password is not a failure: changes never exhaust the budget", async () => {
    const { user, tokens } = await userWithTokens(1);
    let password = user.password;
    for (let i = 0; i < LIMIT + 1; i++) {
      const next = `passphrase number ${i}`;
      expect(
        outcome(await changePassword(a, tokens[0]!, { current_password: password, new_password: next })),
      ).toBe("ok");
      password = next;
    }
  });
});

describe("POST /logout", () => {
  it("with everywhere: every token of the user, this one included, dies on both pods", async () => {
    const { tokens } = await userWithTokens(3);
    const bystander = (await userWithTokens(1)).tokens[0]!;
    const res = await signedInject(a.app, {
      method: "POST",
      url: "/logout",
      consumer,
      token: tokens[0]!,
      json: { everywhere: true },
    });
    expect(res.statusCode).toBe(204);
    await expect
      .poll(async () => Promise.all(tokens.map(async (t) => outcome(await me(b, t)))))
      .toEqual(["token_revoked", "token_revoked", "token_revoked"]);
    for (const t of tokens) expect(outcome(await me(a, t))).toBe("token_revoked");
    for (const pod of [a, b]) expect(outcome(await me(pod, bystander))).toBe("ok");
  });

  it("without a body, or with everywhere false: only this token", async () => {
    const { tokens } = await userWithTokens(3);
    const [first, second, third] = tokens as [ClientCredentials, ClientCredentials, ClientCredentials];
    expect(
      outcome(await signedInject(a.app, { method: "POST", url: "/logout", consumer, token: first })),
    ).toBe("ok");
    const res = await signedInject(a.app, {
      method: "POST",
      url: "/logout",
      consumer,
      token: second,
      json: { everywhere: false },
    });
    expect(res.statusCode).toBe(204);
    await expect.poll(async () => outcome(await me(b, second))).toBe("token_revoked");
    expect(outcome(await me(b, first))).toBe("token_revoked");
    for (const pod of [a, b]) expect(outcome(await me(pod, third))).toBe("ok");
    const bad = await signedInject(a.app, {
      method: "POST",
      url: "/logout",
      consumer,
      token: third,
      json: { everywhere: "yes" },
    });
    expect(bad.statusCode).toBe(400);
    expect(outcome(await me(a, third))).toBe("ok");
  });
});
