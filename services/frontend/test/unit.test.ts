// Units without a data service: configuration, the `next` guard, the in-memory store,
// and pages that never reach the data service.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { SignetApiError } from "@signet/shared/client";
import { ConfigError } from "@signet/shared/config";
import { buildFrontendApp, frontendApp } from "../src/app.js";
import { frontendConfigDefaults, loadFrontendConfig } from "../src/config.js";
import { LOGIN_REASONS } from "../src/pages.js";
import { classifyDataError } from "../src/routes/errors.js";
import { loginUrl, safeNext } from "../src/safe-next.js";
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
