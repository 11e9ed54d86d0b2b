// The data service's contract (docs/api.md, "Data service"): every route, every error code,
// checked on status, body and WWW-Authenticate.
import type { InjectOptions } from "fastify";
import { beforeAll, describe, expect, it } from "vitest";
import { SUBJECTS } from "@signet/shared/bus";
import { type ClientCredentials } from "@signet/shared/oauth";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { unique } from "@signet/test-support/keys";
import { metricValue } from "@signet/test-support/metrics";
import { startDataPod } from "@signet/test-support/pods";
import { seedConsumer, seedToken, seedUser } from "@signet/test-support/seed";
import { problemOf, signedInject, signedRequest, type SignedOptions } from "@signet/test-support/signed";
import type { DataConfig } from "../src/config.js";
import { login } from "./helpers.js";

const tdb = useTestDatabase();
const { pod, consumer, user, token } = useDataPod(tdb, {
  listen: false,
  // docs on: the OpenAPI document is part of the contract; login limits are exercised by
  // their own app below, this one logs the same user in often
  config: { docs: true, loginLimitPerUser: 1_000, loginLimitPerAddress: 1_000 },
});
/** Another app beside the file's, on the same database and bus, with other settings. */
const sibling = (config: Partial<DataConfig>) =>
  startDataPod({ db: tdb.db, bus: pod.bus, listen: false, config });

const expectOAuthError = (res: Awaited<ReturnType<typeof signedInject>>, status: number, problem: string) => {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json()).toEqual({ error: problem, message: expect.any(String) });
  expect(res.headers["www-authenticate"]).toBe(`OAuth realm="signet", oauth_problem="${problem}"`);
};

const expectApiError = (res: Awaited<ReturnType<typeof signedInject>>, status: number, code: string) => {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json()).toEqual({ error: code, message: expect.any(String) });
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
};

describe("POST /authenticate", () => {
  it("logs in with a form body and answers token, secret, expiry and the user", async () => {
    const res = await signedInject(pod.app, login(consumer, user));
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      token: expect.any(String),
      secret: expect.any(String),
      expires_at: expect.any(String),
      user: { id: user.id, username: user.username, display_name: user.display_name },
    });
    const ttl = Date.parse(body.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(28_700_000);
    expect(ttl).toBeLessThanOrEqual(28_800_000);
    // the token works, and its secret is not stored in clear
    const me = await signedInject(pod.app, {
      method: "GET",
      url: "/me",
      consumer,
      token: { key: body.token, secret: body.secret },
    });
    expect(me.statusCode).toBe(200);
    const row = await tdb.db
      .selectFrom("access_tokens")
      .selectAll()
      .where("token", "=", body.token)
      .executeTakeFirstOrThrow();
    expect(row.secret_sealed).not.toContain(body.secret);
    expect(row.consumer_key).toBe(consumer.key);
  });

  it("logs in with a JSON body (oauth_body_hash), with HMAC-SHA1 too, case-insensitively", async () => {
    const json = await signedInject(pod.app, {
      method: "POST",
      url: "/authenticate",
      consumer,
      json: { username: user.username.toUpperCase(), password: user.password },
    });
    expect(json.statusCode, json.body).toBe(200);
    const sha1 = await signedInject(pod.app, {
      method: "POST",
      url: "/authenticate",
      consumer,
      signatureMethod: "HMAC-SHA1",
      json: { username: user.username, password: user.password },
    });
    expect(sha1.statusCode, sha1.body).toBe(200);
  });

  it("answers a wrong password and an unknown user alike, in about the same time", async () => {
    const wrong = () =>
      signedInject(pod.app, {
        method: "POST",
        url: "/authenticate",
        consumer,
        form: { username: user.username, password: "not the password" },
      });
    const unknown = () =>
      signedInject(pod.app, {
        method: "POST",
        url: "/authenticate",
        consumer,
        form: { username: unique("nobody"), password: "whatever123" },
      });
    const a = await wrong();
    const b = await unknown();
    expectApiError(a, 401, "invalid_credentials");
    expectApiError(b, 401, "invalid_credentials");
    expect(a.json().message).toBe(b.json().message);
    // interleaved samples, medians: background load hits both alike
    const wrongMs: number[] = [];
    const unknownMs: number[] = [];
    for (let i = 0; i < 7; i++) {
      for (const [fn, into] of [
        [wrong, wrongMs],
        [unknown, unknownMs],
      ] as const) {
        const t = performance.now();
        await fn();
        into.push(performance.now() - t);
      }
    }
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const ratio = median(unknownMs) / median(wrongMs);
    // both run one argon2id verification (tens of ms); an unknown user skipping it would be ~20x faster
    expect(ratio).toBeGreaterThan(0.33);
    expect(ratio).toBeLessThan(3);
  });

  it("refuses a disabled user with 403 user_disabled, but only after a correct password", async () => {
    const disabled = await seedUser(tdb.db);
    await tdb.db.updateTable("users").set({ status: "disabled" }).where("id", "=", disabled.id).execute();
    const right = await signedInject(pod.app, login(consumer, disabled));
    expectApiError(right, 403, "user_disabled");
    const wrong = await signedInject(pod.app, {
      method: "POST",
      url: "/authenticate",
      consumer,
      form: { username: disabled.username, password: "wrong password" },
    });
    expectApiError(wrong, 401, "invalid_credentials");
  });

  it("answers 400 invalid_input for a missing password", async () => {
    const res = await signedInject(pod.app, {
      method: "POST",
      url: "/authenticate",
      consumer,
      form: { username: user.username },
    });
    expectApiError(res, 400, "invalid_input");
  });

  it("refuses a token-signed request (consumer-only route) with parameter_rejected", async () => {
    const res = await signedInject(pod.app, { ...login(consumer, user), token });
    expectOAuthError(res, 401, "parameter_rejected");
  });
});

// Login and sign-up rate limits: throttle.test.ts (two pods, shared budgets).

describe("POST /users", () => {
  it("creates a user (201) who can then log in", async () => {
    const username = unique("new.user-");
    const res = await signedInject(pod.app, {
      method: "POST",
      url: "/users",
      consumer,
      json: { username, password: "a good password", display_name: "Zoë Ünïcode ✓" },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({ id: expect.any(String), username, display_name: "Zoë Ünïcode ✓" });
    expect(res.json()).not.toHaveProperty("password_hash");
    const loggedIn = await signedInject(pod.app, {
      method: "POST",
      url: "/authenticate",
      consumer,
      json: { username, password: "a good password" },
    });
    expect(loggedIn.statusCode).toBe(200);
  });

  it("answers 409 username_taken, whatever the case", async () => {
    const res = await signedInject(pod.app, {
      method: "POST",
      url: "/users",
      consumer,
      form: { username: user.username.toUpperCase(), password: "another password", display_name: "Dup" },
    });
    expectApiError(res, 409, "username_taken");
  });

  it.each([
    ["a bad username", { username: "no spaces allowed", password: "password123", display_name: "X" }],
    ["a short username", { username: "ab", password: "password123", display_name: "X" }],
    ["a short password", { username: "shortpw", password: "1234567", display_name: "X" }],
    ["a long password", { username: "longpw", password: "x".repeat(257), display_name: "X" }],
    ["an empty display name", { username: "emptydn", password: "password123", display_name: "" }],
    ["a long display name", { username: "longdn", password: "password123", display_name: "d".repeat(101) }],
    ["a missing field", { username: "missing", password: "password123" }],
  ])("answers 400 invalid_input for %s", async (_label, json) => {
    const res = await signedInject(pod.app, { method: "POST", url: "/users", consumer, json });
    expectApiError(res, 400, "invalid_input");
  });
});

describe("GET /me and POST /logout", () => {
  it("GET /me answers the user", async () => {
    const res = await signedInject(pod.app, { method: "GET", url: "/me", consumer, token });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: user.id, username: user.username, display_name: user.display_name });
  });

  it("POST /logout answers 204, revokes the token in the database and announces it", async () => {
    const t = await seedToken(tdb.db, user, consumer);
    expect((await signedInject(pod.app, { method: "GET", url: "/me", consumer, token: t })).statusCode).toBe(
      200,
    );
    const seen: unknown[] = [];
    const off = pod.bus.subscribe(SUBJECTS.tokenRevoked, (payload) => void seen.push(payload));
    const res = await signedInject(pod.app, { method: "POST", url: "/logout", consumer, token: t });
    off();
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe("");
    expect(seen).toEqual([{ token: t.key, at: expect.any(String) }]);
    const row = await tdb.db
      .selectFrom("access_tokens")
      .select("revoked_at")
      .where("token", "=", t.key)
      .executeTakeFirstOrThrow();
    expect(row.revoked_at).not.toBeNull();
    const outbox = await tdb.db
      .selectFrom("outbox")
      .selectAll()
      .where("subject", "=", SUBJECTS.tokenRevoked)
      .execute();
    expect(
      outbox.some((e) => (e.payload as { token?: string }).token === t.key && e.published_at !== null),
    ).toBe(true);
    expectOAuthError(
      await signedInject(pod.app, { method: "GET", url: "/me", consumer, token: t }),
      401,
      "token_revoked",
    );
  });

  it("HEAD /me (Fastify's twin of GET /me) is checked, and once: the nonce is used by that request alone", async () => {
    // (a HEAD answer has no body: the problem is read from WWW-Authenticate)
    const answer = async (request: InjectOptions) => {
      const res = await pod.app.inject(request);
      return [res.statusCode, problemOf(res.headers["www-authenticate"] as string | undefined)];
    };
    // (test-support's signing type names the routes' verbs; it signs any method as given)
    const request = signedRequest({ method: "HEAD" as SignedOptions["method"], url: "/me", consumer, token });
    expect(await answer(request)).toEqual([200, undefined]);
    expect(await answer(request)).toEqual([401, "nonce_used"]);
    expect(await answer({ method: "HEAD", url: "/me" })).toEqual([401, "parameter_absent"]);
  });

  it("a token route without a token answers parameter_absent", async () => {
    expectOAuthError(
      await signedInject(pod.app, { method: "GET", url: "/me", consumer }),
      401,
      "parameter_absent",
    );
  });
});

describe("notes", () => {
  let other: ClientCredentials;
  beforeAll(async () => {
    other = await seedToken(tdb.db, await seedUser(tdb.db), consumer);
  });

  it("creates, lists newest first, reads, patches and deletes the user's notes", async () => {
    const created = [];
    for (const title of ["first", "second", "third"]) {
      const res = await signedInject(pod.app, {
        method: "POST",
        url: "/notes",
        consumer,
        token,
        json: { title, body: `${title} body` },
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toEqual({
        id: expect.any(String),
        title,
        body: `${title} body`,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      created.push(res.json());
    }
    const list = await signedInject(pod.app, { method: "GET", url: "/notes", consumer, token });
    expect(list.statusCode).toBe(200);
    expect(list.json().notes.map((n: { title: string }) => n.title)).toEqual(["third", "second", "first"]);
    expect(Object.keys(list.json().notes[0]).sort()).toEqual([
      "body",
      "created_at",
      "id",
      "title",
      "updated_at",
    ]);

    const id = created[0].id as string;
    const one = await signedInject(pod.app, { method: "GET", url: `/notes/${id}`, consumer, token });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(created[0]);

    const patch = (json: object) =>
      signedInject(pod.app, { method: "PATCH", url: `/notes/${id}`, consumer, token, json });
    const titleOnly = await patch({ title: "renamed" });
    expect(titleOnly.statusCode, titleOnly.body).toBe(200);
    expect(titleOnly.json()).toMatchObject({ id, title: "renamed", body: "first body" });
    const bodyOnly = await patch({ body: "new body" });
    expect(bodyOnly.json()).toMatchObject({ id, title: "renamed", body: "new body" });
    expect(Date.parse(bodyOnly.json().updated_at)).toBeGreaterThanOrEqual(Date.parse(created[0].updated_at));
    const both = await patch({ title: "t", body: "b" });
    expect(both.json()).toMatchObject({ title: "t", body: "b" });
    expectApiError(await patch({}), 400, "invalid_input");

    const del = await signedInject(pod.app, { method: "DELETE", url: `/notes/${id}`, consumer, token });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe("");
    expectApiError(
      await signedInject(pod.app, { method: "GET", url: `/notes/${id}`, consumer, token }),
      404,
      "not_found",
    );
    expectApiError(
      await signedInject(pod.app, { method: "DELETE", url: `/notes/${id}`, consumer, token }),
      404,
      "not_found",
    );
  });

  it("answers 404 not_found for another user's note, on every verb, and leaves it alone", async () => {
    const mine = (
      await signedInject(pod.app, {
        method: "POST",
        url: "/notes",
        consumer,
        token,
        json: { title: "private", body: "mine" },
      })
    ).json();
    for (const request of [
      { method: "GET", url: `/notes/${mine.id}` },
      { method: "PATCH", url: `/notes/${mine.id}`, json: { title: "x" } },
      { method: "DELETE", url: `/notes/${mine.id}` },
    ] as const) {
      const res = await signedInject(pod.app, { ...request, consumer, token: other });
      expectApiError(res, 404, "not_found");
    }
    const list = await signedInject(pod.app, { method: "GET", url: "/notes", consumer, token: other });
    expect(list.json().notes).toEqual([]);
    const still = await signedInject(pod.app, { method: "GET", url: `/notes/${mine.id}`, consumer, token });
    expect(still.json()).toMatchObject({ title: "private", body: "mine" });
  });

  it("answers 404 for an id that is not a uuid, and 400 for bad note input", async () => {
    for (const url of ["/notes/not-a-uuid", "/notes/1'%20or%20'1'='1"]) {
      expectApiError(await signedInject(pod.app, { method: "GET", url, consumer, token }), 404, "not_found");
    }
    for (const json of [
      { title: "t".repeat(201), body: "" },
      { title: "ok", body: "b".repeat(10_001) },
      { title: "", body: "x" },
      { body: "no title" },
    ]) {
      const res = await signedInject(pod.app, { method: "POST", url: "/notes", consumer, token, json });
      expectApiError(res, 400, "invalid_input");
    }
    const edge = await signedInject(pod.app, {
      method: "POST",
      url: "/notes",
      consumer,
      token,
      json: { title: "é".repeat(200), body: "b".repeat(10_000) },
    });
    expect(edge.statusCode).toBe(201);
  });
});

describe("OAuth failures", () => {
  const me = (extra: Partial<Parameters<typeof signedRequest>[0]> = {}) =>
    signedRequest({ method: "GET", url: "/me", consumer, token, ...extra });
  const send = (req: ReturnType<typeof signedRequest>) => pod.app.inject(req);
  /** A signed GET /me whose Authorization header is changed after signing. */
  const meAltered = (from: string | RegExp, to: string) => {
    const req = me();
    req.headers.authorization = req.headers.authorization!.replace(from, to);
    return req;
  };

  it("parameter_absent: no Authorization header, or a required parameter missing", async () => {
    expectOAuthError(await pod.app.inject({ method: "GET", url: "/me" }), 401, "parameter_absent");
    expectOAuthError(await send(meAltered(/,?\s*oauth_nonce="[^"]*"/, "")), 401, "parameter_absent");
  });

  it("parameter_rejected (400): a malformed header, an unknown or duplicated parameter", async () => {
    for (const authorization of [
      'OAuth oauth_consumer_key="unterminated',
      "Basic dXNlcjpwYXNz",
      'OAuth oauth_bogus="1"',
      "OAuth \u0001",
    ]) {
      expectOAuthError(
        await pod.app.inject({ method: "GET", url: "/me", headers: { authorization } }),
        400,
        "parameter_rejected",
      );
    }
    const req = me();
    req.headers.authorization += `, oauth_nonce="again"`;
    expectOAuthError(await send(req), 400, "parameter_rejected");
  });

  it("version_rejected", async () => {
    expectOAuthError(
      await send(meAltered('oauth_version="1.0"', 'oauth_version="2.0"')),
      401,
      "version_rejected",
    );
  });

  it("signature_method_rejected", async () => {
    expectOAuthError(
      await send(meAltered('oauth_signature_method="HMAC-SHA256"', 'oauth_signature_method="PLAINTEXT"')),
      401,
      "signature_method_rejected",
    );
  });

  it("signature_invalid: a wrong consumer secret, a wrong token secret, a tampered URL", async () => {
    expectOAuthError(
      await signedInject(pod.app, {
        method: "GET",
        url: "/me",
        consumer: { ...consumer, secret: "wrong" },
        token,
      }),
      401,
      "signature_invalid",
    );
    expectOAuthError(
      await signedInject(pod.app, {
        method: "GET",
        url: "/me",
        consumer,
        token: { ...token, secret: "wrong" },
      }),
      401,
      "signature_invalid",
    );
    const req = signedRequest({ method: "GET", url: "/notes?a=1", consumer, token });
    req.url = "/notes?a=2";
    expectOAuthError(await send(req), 401, "signature_invalid");
  });

  it("timestamp_refused: outside the window, or not a number", async () => {
    const old = Math.floor(Date.now() / 1000) - 301;
    expectOAuthError(await send(me({ timestamp: old })), 401, "timestamp_refused");
    expectOAuthError(
      await send(me({ timestamp: Math.floor(Date.now() / 1000) + 400 })),
      401,
      "timestamp_refused",
    );
    expectOAuthError(
      await send(meAltered(/oauth_timestamp="\d+"/, 'oauth_timestamp="soon"')),
      401,
      "timestamp_refused",
    );
  });

  it("nonce_used: the same signed request twice", async () => {
    const req = me();
    expect((await send(req)).statusCode).toBe(200);
    expectOAuthError(await send(req), 401, "nonce_used");
  });

  it("consumer_key_rejected, told only behind the consumer's signature", async () => {
    // an unknown key cannot be signed for: it answers as a wrong secret does (oracle.test.ts)
    expectOAuthError(
      await signedInject(pod.app, {
        method: "GET",
        url: "/me",
        consumer: { key: "ck_nobody", secret: "x" },
        token,
      }),
      401,
      "signature_invalid",
    );
    const revoked = await seedConsumer(tdb.db);
    const revokedToken = await seedToken(tdb.db, user, revoked);
    expect(
      (await signedInject(pod.app, { method: "GET", url: "/me", consumer: revoked, token: revokedToken }))
        .statusCode,
    ).toBe(200);
    await tdb.db
      .updateTable("consumers")
      .set({ status: "revoked", revoked_at: new Date() })
      .where("key", "=", revoked.key)
      .execute();
    await pod.bus.publish(SUBJECTS.consumerRevoked, {
      key: revoked.key,
      at: new Date().toISOString(),
      reason: "test",
      actor: "test",
    });
    expectOAuthError(
      await signedInject(pod.app, { method: "GET", url: "/me", consumer: revoked, token: revokedToken }),
      401,
      "consumer_key_rejected",
    );
    expectOAuthError(await signedInject(pod.app, login(revoked, user)), 401, "consumer_key_rejected");
  });

  it("token_rejected, token_revoked, token_expired, told only behind the token's signature", async () => {
    // an unknown token cannot be signed for: it answers as a wrong secret does (oracle.test.ts)
    expectOAuthError(
      await signedInject(pod.app, {
        method: "GET",
        url: "/me",
        consumer,
        token: { key: "no-such-token", secret: "x" },
      }),
      401,
      "signature_invalid",
    );
    // a token issued through another consumer is unknown to this one
    const elsewhere = await seedToken(tdb.db, user, await seedConsumer(tdb.db));
    expectOAuthError(
      await signedInject(pod.app, { method: "GET", url: "/me", consumer, token: elsewhere }),
      401,
      "token_rejected",
    );
    const revoked = await seedToken(tdb.db, user, consumer);
    await tdb.db
      .updateTable("access_tokens")
      .set({ revoked_at: new Date() })
      .where("token", "=", revoked.key)
      .execute();
    expectOAuthError(
      await signedInject(pod.app, { method: "GET", url: "/me", consumer, token: revoked }),
      401,
      "token_revoked",
    );
    const expired = await seedToken(tdb.db, user, consumer, -5);
    expectOAuthError(
      await signedInject(pod.app, { method: "GET", url: "/me", consumer, token: expired }),
      401,
      "token_expired",
    );
  });

  it("body_hash_invalid: a JSON body without, or with a wrong, oauth_body_hash", async () => {
    const req = signedRequest({
      method: "POST",
      url: "/notes",
      consumer,
      token,
      json: { title: "a", body: "b" },
    });
    req.payload = JSON.stringify({ title: "a", body: "tampered" });
    expectOAuthError(await send(req), 401, "body_hash_invalid");
    const noHash = signedRequest({ method: "POST", url: "/notes", consumer, token });
    noHash.headers["content-type"] = "application/json";
    (noHash as { payload?: string }).payload = JSON.stringify({ title: "a", body: "b" });
    expectOAuthError(await send(noHash), 401, "body_hash_invalid");
  });

  it("a tampered form body fails the signature", async () => {
    const req = signedRequest({
      method: "POST",
      url: "/authenticate",
      consumer,
      form: { username: user.username, password: "x" },
    });
    req.payload = new URLSearchParams({ username: user.username, password: user.password }).toString();
    expectOAuthError(await send(req), 401, "signature_invalid");
  });
});

describe("scopes and disabled users", () => {
  it("insufficient_scope (403) when the consumer lacks the route's scope (an empty list: scopes.test.ts)", async () => {
    const loginOnly = await seedConsumer(tdb.db, { scopes: ["authenticate"] });
    const loggedIn = await signedInject(pod.app, login(loginOnly, user));
    expect(loggedIn.statusCode).toBe(200);
    const t = { key: loggedIn.json().token, secret: loggedIn.json().secret };
    expectApiError(
      await signedInject(pod.app, {
        method: "POST",
        url: "/users",
        consumer: loginOnly,
        json: { username: unique("s"), password: "password123", display_name: "S" },
      }),
      403,
      "insufficient_scope",
    );
    expectApiError(
      await signedInject(pod.app, { method: "GET", url: "/notes", consumer: loginOnly, token: t }),
      403,
      "insufficient_scope",
    );
    // /me and /logout need no scope
    expect(
      (await signedInject(pod.app, { method: "GET", url: "/me", consumer: loginOnly, token: t })).statusCode,
    ).toBe(200);

    const reader = await seedConsumer(tdb.db, { scopes: ["notes:read"] });
    const rt = await seedToken(tdb.db, user, reader);
    expect(
      (await signedInject(pod.app, { method: "GET", url: "/notes", consumer: reader, token: rt })).statusCode,
    ).toBe(200);
    expectApiError(
      await signedInject(pod.app, {
        method: "POST",
        url: "/notes",
        consumer: reader,
        token: rt,
        json: { title: "x", body: "y" },
      }),
      403,
      "insufficient_scope",
    );
    expectApiError(await signedInject(pod.app, login(reader, user)), 403, "insufficient_scope");
  });

  it("user_disabled (403) on a token route when the user is disabled", async () => {
    const u = await seedUser(tdb.db);
    const t = await seedToken(tdb.db, u, consumer);
    await tdb.db.updateTable("users").set({ status: "disabled" }).where("id", "=", u.id).execute();
    expectApiError(
      await signedInject(pod.app, { method: "GET", url: "/me", consumer, token: t }),
      403,
      "user_disabled",
    );
  });
});

describe("the URL clients sign against", () => {
  it("SIGNET_PUBLIC_URL: requests are verified against the public origin", async () => {
    const behind = await sibling({ publicUrl: "https://api.example.com" });
    try {
      const ok = await signedInject(behind.app, {
        method: "GET",
        url: "/me?x=1",
        consumer,
        token,
        origin: "https://api.example.com",
      });
      expect(ok.statusCode, ok.body).toBe(200);
      expectOAuthError(
        await signedInject(behind.app, { method: "GET", url: "/me", consumer, token }),
        401,
        "signature_invalid",
      );
    } finally {
      await behind.close();
    }
  });

  it("trustProxy: X-Forwarded-Proto/Host are honoured only when trusted", async () => {
    const proxied = await sibling({ trustProxy: true });
    // signed against the origin the forwarded headers name
    const viaProxy: SignedOptions = {
      method: "GET",
      url: "/me",
      consumer,
      token,
      origin: "https://signet.example",
      headers: { "x-forwarded-proto": "https", "x-forwarded-host": "signet.example" },
    };
    try {
      const ok = await signedInject(proxied.app, viaProxy);
      expect(ok.statusCode, ok.body).toBe(200);
      // the same forwarded headers at an app that does not trust a proxy change nothing
      expectOAuthError(await signedInject(pod.app, viaProxy), 401, "signature_invalid");
    } finally {
      await proxied.close();
    }
  });
});

describe("health, readiness, metrics, OpenAPI", () => {
  it("/healthz and /readyz answer 200 without a signature; x-request-id is kept", async () => {
    expect((await pod.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    const ready = await pod.app.inject({
      method: "GET",
      url: "/readyz",
      headers: { "x-request-id": "req-123" },
    });
    expect(ready.statusCode).toBe(200);
    expect(ready.headers["x-request-id"]).toBe("req-123");
  });

  it("/metrics exposes requests, latency, auth outcomes, cache lookups and nonce batches", async () => {
    const res = await pod.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    for (const name of [
      "signet_http_requests_total",
      "signet_http_request_duration_seconds",
      'signet_auth_outcomes_total{outcome="ok"',
      'signet_auth_outcomes_total{outcome="nonce_used"',
      'signet_credential_cache_lookups_total{kind="consumer",result="hit"',
      "signet_nonce_batch_size_bucket",
    ]) {
      expect(res.body).toContain(name);
    }
    expect(
      await metricValue(pod.app, "signet_auth_outcomes_total", { outcome: "signature_invalid" }),
    ).toBeGreaterThan(0);
  });

  it("serves an OpenAPI document generated from the route schemas, with the OAuth scheme", async () => {
    const res = await pod.app.inject({ method: "GET", url: "/docs/json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.components.securitySchemes.oauth1.description).toMatch(/RFC 5849/);
    for (const [path, method] of [
      ["/authenticate", "post"],
      ["/users", "post"],
      ["/me", "get"],
      ["/me", "patch"],
      ["/me/password", "post"],
      ["/logout", "post"],
      ["/notes", "get"],
      ["/notes", "post"],
      ["/notes/{id}", "get"],
      ["/notes/{id}", "patch"],
      ["/notes/{id}", "delete"],
    ] as const) {
      const op = doc.paths[path][method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.security).toEqual([{ oauth1: [] }]);
      expect(op.responses["401"]).toBeDefined();
    }
    expect(doc.paths["/notes"].get.description).toContain("notes:read");
    expect(doc.paths["/notes"].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      "after",
      "before",
      "limit",
      "q",
    ]);
    expect(doc.paths["/healthz"]).toBeUndefined();
    expect((await pod.app.inject({ method: "GET", url: "/docs" })).statusCode).toBeLessThan(400);
  });

  it("unknown routes answer 404 not_found as JSON", async () => {
    expectApiError(await pod.app.inject({ method: "GET", url: "/nope" }), 404, "not_found");
  });
});
