// Units without a data service: configuration, the `next` guard, the in-memory store,
// and pages that never reach the data service.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Fastify, { type Session } from "fastify";
import { describe, expect, it } from "vitest";
import { SignetApiError } from "@signet/shared/client";
import { ConfigError } from "@signet/shared/config";
import { buildFrontendApp, frontendApp } from "../src/app.js";
import { frontendConfigDefaults, loadFrontendConfig } from "../src/config.js";
import { LOGIN_REASONS } from "../src/pages.js";
import { classifyDataError } from "../src/routes/errors.js";
import { loginUrl, safeNext } from "../src/safe-next.js";
import { MemoryCounters } from "../src/rate-limit-counters.js";
import { bucketKeyOf, SessionSeal } from "../src/session-seal.js";
import { MemorySessionStore } from "../src/session-store.js";
import { SESSION_SECRET } from "./helpers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const PRODUCTION_ENV = {
  SESSION_SECRET,
  SIGNET_CONSUMER_KEY: "ck_frontend",
  SIGNET_CONSUMER_SECRET: "frontend-secret",
  DATA_URL: "http://data:8000",
  NATS_URL: "nats://nats:4222",
};

describe("loadFrontendConfig (production mode)", () => {
  it("names every missing required setting in one error", () => {
    expect(() => loadFrontendConfig({})).toThrow(ConfigError);
    try {
      loadFrontendConfig({});
    } catch (error) {
      const message = (error as Error).message;
      for (const name of [
        "SESSION_SECRET",
        "SIGNET_CONSUMER_KEY",
        "SIGNET_CONSUMER_SECRET",
        "DATA_URL",
        "NATS_URL",
      ]) {
        expect(message).toContain(name);
      }
    }
  });

  it("refuses a short SESSION_SECRET and a DATA_URL that is not http(s)", () => {
    expect(() => loadFrontendConfig({ ...PRODUCTION_ENV, SESSION_SECRET: "too-short" })).toThrow(
      /SESSION_SECRET must be at least 32/,
    );
    expect(() => loadFrontendConfig({ ...PRODUCTION_ENV, DATA_URL: "ftp://x" })).toThrow(/DATA_URL/);
    expect(() => loadFrontendConfig({ ...PRODUCTION_ENV, SESSION_BUCKET: "bad.name" })).toThrow(
      /SESSION_BUCKET/,
    );
  });

  it("defaults: port 4444, Secure cookies, no proxy trusted; TRUST_PROXY and COOKIE_SECURE read", () => {
    const config = loadFrontendConfig(PRODUCTION_ENV);
    expect(config.port).toBe(4444);
    expect(config.host).toBe("0.0.0.0");
    expect(config.cookieSecure).toBe(true);
    expect(config.trustProxy).toBe(false);
    expect(config.dataUrl).toBe("http://data:8000");
    expect(config.natsUrl).toBe("nats://nats:4222");
    expect(config.sessionTtl).toBe(28_800);
    // the session is written back at most every 5 minutes, or a tenth of a short lifetime
    expect(config.sessionRefreshMs).toBe(300_000);
    expect(loadFrontendConfig({ ...PRODUCTION_ENV, SESSION_TTL: "600" }).sessionRefreshMs).toBe(60_000);
    expect(loadFrontendConfig({ ...PRODUCTION_ENV, SESSION_REFRESH_MS: "0" }).sessionRefreshMs).toBe(0);
    expect(() => loadFrontendConfig({ ...PRODUCTION_ENV, SESSION_REFRESH_MS: "soon" })).toThrow(
      /SESSION_REFRESH_MS/,
    );
    const behindIngress = loadFrontendConfig({
      ...PRODUCTION_ENV,
      TRUST_PROXY: "true",
      COOKIE_SECURE: "false",
      PORT: "5000",
    });
    expect(behindIngress.trustProxy).toBe(true);
    expect(behindIngress.cookieSecure).toBe(false);
    expect(behindIngress.port).toBe(5000);
    expect(loadFrontendConfig({ ...PRODUCTION_ENV, TRUST_PROXY: "10.0.0.0/8" }).trustProxy).toBe(
      "10.0.0.0/8",
    );
  });

  it("METRICS_PORT: 9464 in production, none under tests and npm start, 0–65535, never PORT", () => {
    expect(loadFrontendConfig(PRODUCTION_ENV).metricsPort).toBe(9464);
    expect(loadFrontendConfig({ ...PRODUCTION_ENV, METRICS_PORT: "9100" }).metricsPort).toBe(9100);
    expect(loadFrontendConfig({ ...PRODUCTION_ENV, METRICS_PORT: "0" }).metricsPort).toBe(0);
    for (const bad of ["65536", "-1", "metrics"]) {
      expect(() => loadFrontendConfig({ ...PRODUCTION_ENV, METRICS_PORT: bad })).toThrow(
        /METRICS_PORT must be an integer between 0 and 65535/,
      );
    }
    expect(() => loadFrontendConfig({ ...PRODUCTION_ENV, METRICS_PORT: "4444" })).toThrow(
      /METRICS_PORT must differ from PORT/,
    );
    expect(
      frontendConfigDefaults({ consumerKey: "k", consumerSecret: "s", sessionSecret: SESSION_SECRET })
        .metricsPort,
    ).toBe(0);
    expect(loadFrontendConfig(PRODUCTION_ENV).rateLimitBucket).toBe("signet-rate-limits");
    expect(() => loadFrontendConfig({ ...PRODUCTION_ENV, RATE_LIMIT_BUCKET: "a.b" })).toThrow(
      /RATE_LIMIT_BUCKET/,
    );
  });

  it("npm run start:frontend with a missing setting ends at once naming it", () => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" };
    const run = spawnSync(
      process.execPath,
      ["--conditions=@signet/source", "--import", "tsx", "services/frontend/src/server.ts"],
      {
        cwd: ROOT,
        env: { ...env, ...PRODUCTION_ENV, NATS_URL: "" },
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(78);
    expect(run.stderr).toContain("missing required setting(s): NATS_URL");
  });
});

describe("safeNext", () => {
  it.each([
    ["/", "/"],
    ["/notes?x=1#top", "/notes?x=1#top"],
    ["/a/b", "/a/b"],
  ])("keeps the local path %s", (input, expected) => {
    expect(safeNext(input)).toBe(expected);
  });

  it.each([
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "/\tevil",
    "/\n/evil.example",
    " /x",
    "",
    "/login",
    "/login?next=/",
    "/signup",
    // what URL normalisation collapses into `//host` (checked again after it)
    "/.//evil.example",
    "/a/..//evil.example",
    "/..//evil.example",
    "/%2e//evil.example",
    "/%2E%2E//evil.example",
    "/x/%2e%2e/%2e%2e//evil.example",
    "/./\\evil.example",
  ])("rejects %j", (input) => {
    expect(safeNext(input)).toBe("/");
  });

  it("rejects what is not a string", () => {
    expect(safeNext(undefined)).toBe("/");
    expect(safeNext(["/a"])).toBe("/");
    expect(safeNext("/" + "a".repeat(3000))).toBe("/");
  });

  it("builds /login URLs with readable slashes", () => {
    expect(loginUrl("/")).toBe("/login?next=/");
    expect(loginUrl("/a?b=c", "token_revoked")).toBe("/login?reason=token_revoked&next=/a%3Fb%3Dc");
  });
});

describe("MemorySessionStore", () => {
  it("stores copies, honours the cookie's expiry, and destroys", async () => {
    const store = new MemorySessionStore(60_000);
    const set = (id: string, value: object) =>
      new Promise<void>((resolve, reject) =>
        store.set(id, value as never, (e) => (e ? reject(e) : resolve())),
      );
    const get = (id: string) =>
      new Promise<unknown>((resolve, reject) => store.get(id, (e, s) => (e ? reject(e) : resolve(s))));
    const session = { user: { id: "1" }, cookie: { expires: new Date(Date.now() + 60_000).toISOString() } };
    await set("aaaaaaaaaaaaaaaaaaaaaa", session);
    session.user.id = "changed";
    expect(await get("aaaaaaaaaaaaaaaaaaaaaa")).toMatchObject({ user: { id: "1" } });
    await set("bbbbbbbbbbbbbbbbbbbbbb", { cookie: { expires: new Date(Date.now() - 1).toISOString() } });
    expect(await get("bbbbbbbbbbbbbbbbbbbbbb")).toBeNull();
    await new Promise<void>((resolve) => store.destroy("aaaaaaaaaaaaaaaaaaaaaa", () => resolve()));
    expect(await get("aaaaaaaaaaaaaaaaaaaaaa")).toBeNull();
    await store.close();
  });
});

describe("SessionSeal", () => {
  const OTHER = "another-session-secret-of-32-characters-or-more";
  const session = {
    cookie: { expires: new Date(Date.now() + 60_000).toISOString() },
    user: { id: "u-1", username: "ada", display_name: "Ada Lovelace" },
    auth: {
      token: "tok_secret_token_value",
      secret: "the-token-secret-value",
      expiresAt: "2099-01-01T00:00:00Z",
    },
  } as unknown as Session;
  const id = "sessionidsessionidsessionid12345";

  it("seals so that nothing of the session shows, and opens what it sealed", () => {
    const seal = new SessionSeal([SESSION_SECRET]);
    const sealed = seal.seal(id, session);
    for (const plain of [
      "tok_secret_token_value",
      "the-token-secret-value",
      "ada",
      "Ada Lovelace",
      "u-1",
      id,
    ])
      expect(sealed).not.toContain(plain);
    expect(seal.seal(id, session)).not.toBe(sealed); // a fresh IV each time
    expect(seal.open(id, sealed)).toEqual(session);
    expect(bucketKeyOf(id)).not.toContain(id);
    expect(bucketKeyOf(id)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("refuses another secret, another session id, a tampered value and pre-sealing plaintext; rotation opens", () => {
    const sealed = new SessionSeal([SESSION_SECRET]).seal(id, session);
    expect(new SessionSeal([OTHER]).open(id, sealed)).toBeNull();
    expect(new SessionSeal([OTHER, SESSION_SECRET]).open(id, sealed)).toEqual(session);
    expect(new SessionSeal([SESSION_SECRET]).open(`${id}x`, sealed)).toBeNull();
    const parts = sealed.split(".");
    parts[3] = parts[3]!.slice(0, -2) + (parts[3]!.endsWith("AA") ? "BB" : "AA");
    expect(new SessionSeal([SESSION_SECRET]).open(id, parts.join("."))).toBeNull();
    expect(new SessionSeal([SESSION_SECRET]).open(id, JSON.stringify(session))).toBeNull();
    expect(new SessionSeal([SESSION_SECRET]).open(id, "")).toBeNull();
  });
});

describe("MemoryCounters (rate limits without NATS)", () => {
  it("count per key and window of the clock, at most max + 1, and forget nothing for other keys", async () => {
    const counters = new MemoryCounters();
    try {
      const hits = [];
      for (let i = 0; i < 5; i++) hits.push(await counters.hit("victim", 60_000, 3));
      expect(hits.map((h) => h.current)).toEqual([1, 2, 3, 4, 4]);
      const left = 60_000 - (Date.now() % 60_000);
      expect(hits[4]!.ttl).toBeGreaterThan(left - 1_000);
      expect(hits[4]!.ttl).toBeLessThanOrEqual(60_000);
      for (let i = 0; i < 100_000; i++) await counters.hit(`filler-${i}`, 60_000, 3);
      expect((await counters.hit("victim", 60_000, 3)).current).toBe(4);
    } finally {
      await counters.close();
    }
  });
});

describe("pages that need no data service", () => {
  const config = frontendConfigDefaults({
    consumerKey: "k",
    consumerSecret: "s",
    sessionSecret: SESSION_SECRET,
    dataUrl: "http://127.0.0.1:9",
    logLevel: "silent",
    defaultMetrics: false,
  });
  // no bus, no NATS_URL: the sessions plugin keeps sessions in memory
  const build = () => buildFrontendApp({ config, logger: false });

  /** A store counting its writes, decorated before the app is registered (the sessions plugin then uses it). */
  class CountingStore extends MemorySessionStore {
    writes = 0;
    override set(...args: Parameters<MemorySessionStore["set"]>): void {
      this.writes++;
      super.set(...args);
    }
  }

  it("login and sign-up pages: labelled fields, CSRF field, no scripts, no inline styles", async () => {
    const app = await build();
    try {
      for (const url of ["/login", "/signup"]) {
        const res = await app.inject({ url });
        expect(res.statusCode).toBe(200);
        expect(res.headers["content-type"]).toContain("text/html");
        expect(res.body).toMatch(/name="_csrf" value="[^"]+"/);
        expect(res.body).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
        for (const [, id] of res.body.matchAll(/<input id="([^"]+)"/g))
          expect(res.body).toContain(`<label for="${id}">`);
        expect(res.body).toContain('<html lang="en">');
        expect(res.body).toContain('name="viewport"');
      }
      const signup = await app.inject({ url: "/signup" });
      expect(signup.body).toMatch(/name="display_name"/);
    } finally {
      await app.close();
    }
  });

  it("anonymous pages store no session; their forms still carry a CSRF token", async () => {
    const sessionStore = new CountingStore();
    const app = Fastify();
    app.decorate("sessionStore", sessionStore);
    await app.register(frontendApp, { config });
    try {
      for (const url of ["/login", "/signup", "/login?reason=logged_out", "/", "/no/such/page"]) {
        const res = await app.inject({ url });
        expect(String(res.headers["set-cookie"] ?? "")).not.toContain("signet.sid=");
      }
      const page = await app.inject({ url: "/login" });
      const csrf = page.cookies.find((c) => c.name === "signet.csrf");
      expect(csrf).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
      expect(page.body).toMatch(/name="_csrf" value="[^"]+"/);
      const refused = await app.inject({
        method: "POST",
        url: "/login",
        cookies: { "signet.csrf": csrf!.value },
        payload: { username: "someone", password: "something" },
      });
      expect(refused.statusCode).toBe(403);
      expect(sessionStore.writes).toBe(0);
    } finally {
      await app.close();
      await sessionStore.close();
    }
  });

  it("without NATS the login limit counts in memory: the 429 page past it", async () => {
    const app = await buildFrontendApp({ config: { ...config, loginRateLimit: 2 }, logger: false });
    try {
      const post = () =>
        app.inject({ method: "POST", url: "/login", payload: { username: "a", password: "b" } });
      const left = 60_000 - (Date.now() % 60_000);
      if (left < 2_000) await new Promise((resolve) => setTimeout(resolve, left + 20));
      expect((await post()).statusCode).toBe(403);
      expect((await post()).statusCode).toBe(403);
      const limited = await post();
      expect(limited.statusCode).toBe(429);
      expect(limited.headers["content-type"]).toContain("text/html");
      expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  it("a URL Fastify cannot decode: the 400 page with the headers helmet gives every page (HSTS too)", async () => {
    const app = await buildFrontendApp({ config: { ...config, cookieSecure: true }, logger: false });
    try {
      const page = await app.inject({ url: "/login" });
      const bad = await app.inject({ url: "/%ZZ" });
      expect(bad.statusCode).toBe(400);
      expect(bad.headers["content-type"]).toContain("text/html");
      for (const name of [
        "content-security-policy",
        "strict-transport-security",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
      ]) {
        expect(bad.headers[name], name).toBeTruthy();
        expect(bad.headers[name], name).toBe(page.headers[name]);
      }
    } finally {
      await app.close();
    }
  });

  it("serves its CSS locally and answers unknown static files with the 404 page", async () => {
    const app = await build();
    try {
      expect((await app.inject({ url: "/static/app.css" })).statusCode).toBe(200);
      const pico = await app.inject({ url: "/static/pico/pico.classless.min.css" });
      expect(pico.statusCode).toBe(200);
      expect(pico.headers["content-type"]).toContain("text/css");
      const missing = await app.inject({ url: "/static/../package.json" });
      expect(missing.statusCode).toBe(404);
      expect((await app.inject({ url: "/static/pico/pico.min.css" })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });

  it("a malformed form body gets the friendly 400 page, not a stack trace", async () => {
    const app = await build();
    try {
      const page = await app.inject({ url: "/login" });
      const cookie = String(page.headers["set-cookie"]).split(";")[0]!;
      const res = await app.inject({
        method: "POST",
        url: "/login",
        headers: { cookie, "content-type": "application/json" },
        payload: "{not json",
      });
      expect([400, 403, 415]).toContain(res.statusCode);
      expect(res.headers["content-type"]).toContain("text/html");
      expect(res.body).not.toMatch(/SyntaxError|at .*\.(ts|js):\d+/);
    } finally {
      await app.close();
    }
  });
});

describe("what a refused data call means for the user", () => {
  const refused = (status: number, code: string, problem?: string) =>
    classifyDataError(new SignetApiError(status, code, "x", problem ? { problem: problem as never } : {}));

  it("a dead token ends the session, with a message for each reason", () => {
    for (const problem of ["token_revoked", "token_expired", "token_rejected"]) {
      expect(refused(401, problem, problem)).toEqual({ kind: "session_ended", reason: problem });
      expect(LOGIN_REASONS[problem]).toBeTruthy();
    }
    expect(refused(403, "user_disabled")).toEqual({ kind: "session_ended", reason: "user_disabled" });
  });

  it("a signed-in call refused as signature_invalid (a token the data service no longer knows) ends the session", () => {
    const error = new SignetApiError(401, "signature_invalid", "x", { problem: "signature_invalid" });
    expect(classifyDataError(error, true)).toEqual({ kind: "session_ended", reason: "token_rejected" });
    expect(classifyDataError(error, false)).toEqual({ kind: "page", page: "misconfigured" });
  });

  it("the frontend's own consumer refused: the misconfigured page", () => {
    for (const problem of [
      "consumer_key_rejected",
      "consumer_key_unknown",
      "signature_invalid",
      "timestamp_refused",
      "nonce_used",
    ]) {
      expect(refused(401, problem, problem)).toEqual({ kind: "page", page: "misconfigured" });
    }
    expect(refused(403, "insufficient_scope")).toEqual({ kind: "page", page: "misconfigured" });
  });

  it("unreachable, rate-limited and anything else", () => {
    expect(refused(503, "unavailable")).toMatchObject({ kind: "page", page: "unavailable" });
    expect(refused(429, "rate_limited")).toMatchObject({ kind: "page", page: "rate_limited" });
    expect(refused(500, "internal")).toEqual({ kind: "page", page: "internal" });
  });
});
