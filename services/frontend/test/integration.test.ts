// The frontend over HTTP against the real data service (its own PostgreSQL database),
// with sessions in a NATS JetStream KV bucket of this file's own.
import { Writable } from "node:stream";
import type { Session } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Signer } from "@fastify/cookie";
import { SUBJECTS } from "@signet/shared/bus";
import { findToken, revokeConsumer, revokeUserTokens } from "@signet/shared/repos";
import { Agent, csrfOf } from "@signet/test-support/agent";
import { useTestDatabase } from "@signet/test-support/db";
import { unique } from "@signet/test-support/keys";
import { testNatsUrl } from "@signet/test-support/nats";
import { freePort } from "@signet/test-support/net";
import { seedConsumer, seedUser } from "@signet/test-support/seed";
import { sleep } from "@signet/test-support/wait";
import { bucketKeyOf, SessionSeal } from "../src/session-seal.js";
import {
  frontendConfig,
  SESSION_SECRET,
  startFrontend,
  uniqueBucket,
  useFrontendStack,
  type Frontend,
} from "./helpers.js";

const tdb = useTestDatabase();
const dataLog: string[] = [];
const stack = useFrontendStack(tdb, {
  label: "int",
  dataLogger: {
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        dataLog.push(chunk.toString());
        done();
      },
    }),
    level: "info",
  },
});
const { data, front, bucket } = stack;

const cookieName = "signet.sid";
const csrfCookie = "signet.csrf";

describe("pages and sessions", () => {
  it("GET / without a session redirects to /login?next=/", async () => {
    const res = await new Agent(front.url).get("/");
    expect(res.status).toBe(302);
    expect(res.location).toBe("/login?next=/");
  });

  it("a wrong login answers 401 with the form again and a role=alert message", async () => {
    const user = await seedUser(tdb.db);
    const agent = new Agent(front.url);
    const res = await agent.login(user.username, "not the password");
    expect(res.status).toBe(401);
    expect(res.body).toMatch(/role="alert"[^>]*>Incorrect username or password\./);
    expect(res.body).toContain('action="/login"');
    expect(res.body).toContain(`value="${user.username}"`);
  });

  it("login changes the session id, keeps token and secret server-side, and shows the user's page", async () => {
    const user = await seedUser(tdb.db);
    const agent = new Agent(front.url);
    const loginPage = await agent.get("/login?next=/");
    expect(loginPage.status).toBe(200);
    // an anonymous page sets no session cookie, only the signed CSRF-secret cookie
    expect(loginPage.setCookie.some((c) => c.startsWith(`${cookieName}=`))).toBe(false);
    const csrfLine = loginPage.setCookie.find((c) => c.startsWith(`${csrfCookie}=`))!;
    expect(csrfLine).toMatch(/; HttpOnly/i);
    expect(csrfLine).toMatch(/; SameSite=Lax/i);
    expect(csrfLine).not.toMatch(/; Secure/i);
    expect(csrfLine).not.toMatch(/; Max-Age/i);
    expect(new Signer(SESSION_SECRET).unsign(decodeURIComponent(agent.cookies.get(csrfCookie)!)).valid).toBe(
      true,
    );

    // session fixation: a well-signed session cookie planted before login is not adopted
    const planted = "plantedplantedplantedplanted1234";
    const before = encodeURIComponent(new Signer(SESSION_SECRET).sign(planted));
    agent.cookies.set(cookieName, before);
    const res = await agent.post("/login", {
      _csrf: csrfOf(loginPage.body),
      username: user.username,
      password: user.password,
      next: "/",
    });
    expect(res.status).toBe(303);
    expect(res.location).toBe("/");
    const cookieLine = res.setCookie.find((c) => c.startsWith(`${cookieName}=`))!;
    expect(cookieLine).toMatch(/; HttpOnly/i);
    expect(cookieLine).toMatch(/; SameSite=Lax/i);
    expect(cookieLine).not.toMatch(/; Secure/i);
    const after = agent.cookies.get(cookieName);
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    expect(decodeURIComponent(after!)).not.toContain(planted);
    // the anonymous CSRF secret does not outlive the login
    expect(agent.cookies.has(csrfCookie)).toBe(false);
    // the planted id is not a session: replaying it is not signed in
    const replay = new Agent(front.url);
    replay.cookies.set(cookieName, before);
    expect((await replay.get("/")).status).toBe(302);
    expect(await (await stack.kv()).get(bucketKeyOf(planted))).toBeNull();

    const home = await agent.get("/");
    expect(home.status).toBe(200);
    expect(home.body).toContain(user.display_name);
    expect(home.body).toContain('action="/logout"');
    expect(home.headers.get("cache-control")).toBe("no-store");

    // the token: server-side only (sealed in the KV session: trust-boundaries.test.ts), never in the cookie or a page
    const token = await tdb.db
      .selectFrom("access_tokens")
      .selectAll()
      .where("user_id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(decodeURIComponent(after!)).not.toContain(token.token);
    expect(home.body).not.toContain(token.token);
    const sessionId = decodeURIComponent(after!).split(".")[0]!;
    expect((await (await stack.kv()).get(bucketKeyOf(sessionId)))?.operation).toBe("PUT");
  });

  it("a session the browser presents from the store is replaced at login, and removed from the store", async () => {
    // e.g. an anonymous session stored before anonymous visits stopped being stored
    const user = await seedUser(tdb.db);
    const kv = await stack.kv();
    const old = "oldoldoldoldoldoldoldoldoldold12";
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const anonymous = {
      cookie: { originalMaxAge: 3_600_000, expires, path: "/", httpOnly: true },
      _csrf: "x",
    };
    await kv.put(
      bucketKeyOf(old),
      new SessionSeal([SESSION_SECRET]).seal(old, anonymous as unknown as Session),
    );
    const agent = new Agent(front.url);
    agent.cookies.set(cookieName, encodeURIComponent(new Signer(SESSION_SECRET).sign(old)));
    const res = await agent.login(user.username, user.password);
    expect(res.status).toBe(303);
    const after = decodeURIComponent(agent.cookies.get(cookieName)!).split(".")[0]!;
    expect(after).not.toBe(old);
    expect((await kv.get(bucketKeyOf(old)))?.operation ?? "gone").not.toBe("PUT");
    expect((await kv.get(bucketKeyOf(after)))?.operation).toBe("PUT");
    expect((await agent.get("/")).status).toBe(200);
  });

  it("notes: add two (newest first), delete one; titles are escaped", async () => {
    const user = await seedUser(tdb.db);
    const agent = new Agent(front.url);
    await agent.login(user.username, user.password);
    expect((await agent.submit("/", "/notes", { title: "First note", body: "one" })).location).toBe("/");
    expect(
      (await agent.submit("/", "/notes", { title: "<b>Second</b> & more", body: "two\nlines" })).location,
    ).toBe("/");
    let home = await agent.get("/");
    expect(home.body).toContain("&lt;b&gt;Second&lt;/b&gt; &amp; more");
    expect(home.body).not.toContain("<b>Second</b>");
    expect(home.body.indexOf("Second")).toBeLessThan(home.body.indexOf("First note"));
    expect(home.body).toMatch(/form action="\/notes"/);
    expect(home.body).toMatch(/input id="title" name="title"/);
    expect(home.body).toMatch(/textarea id="body" name="body"/);
    const ids = [...home.body.matchAll(/action="\/notes\/([0-9a-f-]+)\/delete"/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(2);
    const del = await agent.post(`/notes/${ids[1]}/delete`, { _csrf: csrfOf(home.body) });
    expect(del.status).toBe(303);
    home = await agent.get("/");
    expect(home.body).not.toContain("First note");
    expect(home.body).toContain("Second");
    // a long note of multi-byte text fits the form body limit
    const long = "日本語".repeat(3333);
    expect((await agent.submit("/", "/notes", { title: "Ünïcødé ✓", body: long })).status).toBe(303);
    expect((await agent.get("/")).body).toContain(long);
    // an empty title is refused with the form kept
    const bad = await agent.submit("/", "/notes", { title: "   ", body: "kept body" });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('role="alert"');
    expect(bad.body).toContain("kept body");
  });

  it("a POST without its CSRF token gets the friendly 403 page", async () => {
    const user = await seedUser(tdb.db);
    const agent = new Agent(front.url);
    await agent.login(user.username, user.password);
    const res = await agent.post("/notes", { title: "forged", body: "x" });
    expect(res.status).toBe(403);
    expect(res.body).toContain("This form has expired");
    const wrong = await agent.post("/notes", { _csrf: "not-a-token", title: "forged", body: "x" });
    expect(wrong.status).toBe(403);
    const anonymous = await new Agent(front.url).post("/login", {
      username: user.username,
      password: user.password,
    });
    expect(anonymous.status).toBe(403);
    expect((await agent.get("/")).body).not.toContain("forged");
  });

  it("anonymous forms (login, sign-up): no token, a wrong one, another visitor's, or a forged secret cookie: 403", async () => {
    const user = await seedUser(tdb.db);
    const creds = { username: user.username, password: user.password, next: "/" };
    const agent = new Agent(front.url);
    const token = csrfOf((await agent.get("/login")).body);
    const otherToken = csrfOf((await new Agent(front.url).get("/login")).body);
    const refused = async (who: Agent, path: string, form: Record<string, string>) => {
      const res = await who.post(path, form);
      expect(res.status, `${path} ${JSON.stringify(Object.keys(form))}`).toBe(403);
      expect(res.body).toContain("This form has expired");
      expect(res.setCookie.some((c) => c.startsWith(`${cookieName}=`))).toBe(false);
    };
    await refused(agent, "/login", creds);
    await refused(agent, "/login", { ...creds, _csrf: "" });
    await refused(agent, "/login", { ...creds, _csrf: "not-a-token" });
    await refused(agent, "/login", { ...creds, _csrf: otherToken });
    await refused(new Agent(front.url), "/login", { ...creds, _csrf: token }); // no secret cookie
    const forged = new Agent(front.url);
    const signed = agent.cookies.get(csrfCookie)!;
    forged.cookies.set(csrfCookie, (signed.startsWith("x") ? "y" : "x") + signed.slice(1));
    await refused(forged, "/login", { ...creds, _csrf: token }); // a secret cookie not signed by us
    forged.cookies.set(csrfCookie, decodeURIComponent(signed).split(".")[0]!);
    await refused(forged, "/login", { ...creds, _csrf: token }); // the right secret, unsigned
    const signup = {
      username: unique("nocsrf"),
      password: "a long enough password",
      display_name: "No Token",
    };
    const signupToken = csrfOf((await agent.get("/signup")).body);
    await refused(agent, "/signup", signup);
    await refused(agent, "/signup", { ...signup, _csrf: "not-a-token" });
    await refused(agent, "/signup", { ...signup, _csrf: otherToken });
    expect(
      await tdb.db.selectFrom("users").select("id").where("username", "=", signup.username).execute(),
    ).toEqual([]);
    // the same forms with their tokens go through
    expect((await agent.post("/signup", { ...signup, _csrf: signupToken })).status).toBe(303);
    const again = new Agent(front.url);
    expect(
      (await again.post("/login", { ...creds, _csrf: csrfOf((await again.get("/login")).body) })).status,
    ).toBe(303);
  });

  it("signed-in forms (notes add/delete, logout): tokens are bound to the session", async () => {
    const user = await seedUser(tdb.db);
    const agent = new Agent(front.url);
    await agent.login(user.username, user.password);
    expect((await agent.submit("/", "/notes", { title: "keep me", body: "" })).status).toBe(303);
    const home = await agent.get("/");
    const good = csrfOf(home.body);
    const id = /action="\/notes\/([0-9a-f-]+)\/delete"/.exec(home.body)![1]!;

    // an anonymous token minted with this browser's own CSRF secret cookie
    const sameBrowser = new Agent(front.url);
    sameBrowser.cookies.set(csrfCookie, agent.cookies.get(csrfCookie)!);
    const anonymousToken = csrfOf((await sameBrowser.get("/login")).body);
    // a token of another signed-in session, even with this browser's secret cookie
    const other = new Agent(front.url);
    await other.login(user.username, user.password);
    other.cookies.set(csrfCookie, agent.cookies.get(csrfCookie)!);
    const otherSessionToken = csrfOf((await other.get("/")).body);

    for (const [path, form] of [
      ["/notes", { title: "forged", body: "x" }],
      [`/notes/${id}/delete`, {}],
      ["/logout", {}],
    ] as const) {
      for (const _csrf of [undefined, "", "not-a-token", anonymousToken, otherSessionToken]) {
        const res = await agent.post(path, _csrf === undefined ? form : { ...form, _csrf });
        expect(res.status, `${path} with ${String(_csrf)}`).toBe(403);
        expect(res.body).toContain("This form has expired");
      }
    }
    const after = await agent.get("/");
    expect(after.status).toBe(200); // still signed in: the refused logouts did nothing
    expect(after.body).toContain("keep me");
    expect(after.body).not.toContain("forged");

    // with the page's own token each form works
    expect((await agent.post(`/notes/${id}/delete`, { _csrf: good })).status).toBe(303);
    expect((await agent.get("/")).body).not.toContain("keep me");
    const logout = await agent.post("/logout", { _csrf: good });
    expect(logout.status).toBe(303);
    expect(logout.location).toBe("/login?reason=logged_out&next=/");
    // after logout the session's tokens are dead too
    expect((await agent.post("/notes", { _csrf: good, title: "late", body: "" })).status).toBe(403);
  });

  it("sign-up signs the user in; a taken username and bad input get friendly messages", async () => {
    const username = unique("new");
    const agent = new Agent(front.url);
    const res = await agent.submit("/signup", "/signup", {
      username,
      password: "a long enough password",
      display_name: "Ada L.",
    });
    expect(res.status).toBe(303);
    expect(res.location).toBe("/");
    expect((await agent.get("/")).body).toContain("Hello, Ada L.");

    const again = await new Agent(front.url).submit("/signup", "/signup", {
      username,
      password: "another password",
      display_name: "Other",
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatch(/role="alert"[^>]*>The username “[^”]+” is already taken/);

    const bad = await new Agent(front.url).submit("/signup", "/signup", {
      username: "x",
      password: "short",
      display_name: "",
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('role="alert"');
  });

  it("logout calls the data service (the token dies) and destroys the session", async () => {
    const user = await seedUser(tdb.db);
    const agent = new Agent(front.url);
    await agent.login(user.username, user.password);
    const cookie = agent.cookies.get(cookieName)!;
    const res = await agent.submit("/", "/logout", {});
    expect(res.status).toBe(303);
    expect(res.location).toBe("/login?reason=logged_out&next=/");
    const token = await tdb.db
      .selectFrom("access_tokens")
      .select(["token"])
      .where("user_id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect((await findToken(tdb.db, token.token))?.revoked_at).toBeTruthy();
    const replay = new Agent(front.url);
    replay.cookies.set(cookieName, cookie);
    expect((await replay.get("/")).status).toBe(302);
    expect((await agent.get("/login?reason=logged_out")).body).toContain("You have been logged out");
  });

  it("a token revoked on the data side ends the session and says why on /login", async () => {
    const user = await seedUser(tdb.db);
    const agent = new Agent(front.url);
    await agent.login(user.username, user.password);
    expect((await agent.get("/")).status).toBe(200);
    await revokeUserTokens(tdb.db, user.id);
    await data.bus.publish(SUBJECTS.userDisabled, {
      user_id: user.id,
      at: new Date().toISOString(),
      actor: "test",
    });
    const res = await agent.get("/");
    expect(res.status).toBe(303);
    expect(res.location).toBe("/login?reason=token_revoked&next=/");
    const login = await agent.get(res.location!);
    expect(login.body).toMatch(/role="status"[^>]*>Your session was ended because your access was revoked/);
    expect((await agent.get("/")).location).toBe("/login?next=/");
  });

  it("forwards the request id to the data service", async () => {
    const user = await seedUser(tdb.db);
    const agent = new Agent(front.url);
    await agent.login(user.username, user.password);
    const requestId = `trace-${unique("r")}`;
    const res = await agent.get("/", { "x-request-id": requestId });
    expect(res.headers.get("x-request-id")).toBe(requestId);
    expect(dataLog.some((line) => line.includes(requestId) && line.includes("/notes"))).toBe(true);
  });

  it("a session survives a frontend restart (new instance, same bucket) and is shared by replicas", async () => {
    const user = await seedUser(tdb.db);
    const agent = new Agent(front.url);
    await agent.login(user.username, user.password);
    const other = await stack.startFrontend();
    try {
      const onOther = new Agent(other.url);
      onOther.cookies = agent.cookies;
      const home = await onOther.get("/");
      expect(home.status).toBe(200);
      expect(home.body).toContain(user.display_name);
      // a form rendered by one replica is accepted by the other
      const added = await onOther.post("/notes", {
        _csrf: csrfOf(home.body),
        title: "via replica",
        body: "",
      });
      expect(added.status).toBe(303);
    } finally {
      await other.app.close();
    }
    // restart: a brand-new app with its own NATS connection, same bucket
    const restarted = await startFrontend({
      config: frontendConfig(data, {
        sessionBucket: bucket,
        rateLimitBucket: stack.limitsBucket,
        natsUrl: testNatsUrl(),
      }),
    });
    try {
      const again = new Agent(restarted.url);
      again.cookies = agent.cookies;
      const home = await again.get("/");
      expect(home.status).toBe(200);
      expect(home.body).toContain("via replica");
    } finally {
      await restarted.app.close();
    }
  });
});

describe("the session store holds signed-in users only", () => {
  const ownBucket = uniqueBucket("anon");
  let own: Frontend;

  beforeAll(async () => {
    own = await stack.startFrontend({ sessionBucket: ownBucket });
  });

  afterAll(async () => {
    await own?.app.close();
    await (await stack.kv(ownBucket)).destroy();
  });

  /** The bucket's live keys, and how many messages its stream holds (every put and purge counts). */
  async function bucketContents(): Promise<{ keys: string[]; messages: number }> {
    const kv = await stack.kv(ownBucket);
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    return { keys: keys.sort(), messages: (await kv.status()).values };
  }

  it("N anonymous visits to /login and /signup (bots and browsers) add no key; a login adds exactly one", async () => {
    expect(await bucketContents()).toEqual({ keys: [], messages: 0 });
    const N = 25;
    const browser = new Agent(own.url); // keeps its cookies, like a person
    for (let i = 0; i < N; i++) {
      const bot = new Agent(own.url); // no cookies at all, like a crawler
      for (const who of [bot, browser]) {
        for (const path of ["/login", "/signup"]) {
          const res = await who.get(path);
          expect(res.status).toBe(200);
          expect(res.setCookie.some((c) => c.startsWith(`${cookieName}=`))).toBe(false);
        }
      }
    }
    // the other anonymous answers: redirects, reasons, error pages, refused and failed forms
    const user = await seedUser(tdb.db);
    expect((await browser.get("/")).status).toBe(302);
    expect((await browser.get("/login?reason=token_revoked&next=/")).body).toContain(
      "your access was revoked",
    );
    expect((await browser.get("/no/such/page")).status).toBe(404);
    expect((await browser.post("/login", { username: user.username, password: user.password })).status).toBe(
      403,
    );
    expect(
      (await browser.submit("/login", "/login", { username: user.username, password: "wrong" })).status,
    ).toBe(401);
    expect(
      (await browser.submit("/signup", "/signup", { username: "x", password: "short", display_name: "" }))
        .status,
    ).toBe(400);
    const stale = new Agent(own.url); // a session cookie whose session is gone
    stale.cookies.set(
      cookieName,
      encodeURIComponent(new Signer(SESSION_SECRET).sign("gonegonegonegonegonegone")),
    );
    const cleared = await stale.get("/login");
    expect(cleared.status).toBe(200);
    expect(stale.cookies.has(cookieName)).toBe(false);
    expect(await bucketContents()).toEqual({ keys: [], messages: 0 });

    // a login stores exactly one session, under the hash of the id in the cookie
    const res = await browser.submit("/login", "/login", {
      username: user.username,
      password: user.password,
    });
    expect(res.status).toBe(303);
    const sessionId = bucketKeyOf(decodeURIComponent(browser.cookies.get(cookieName)!).split(".")[0]!);
    expect(await bucketContents()).toEqual({ keys: [sessionId], messages: 1 });
    // using it (rolling expiry re-writes the same key) and more anonymous visits add nothing
    expect((await browser.get("/")).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await new Agent(own.url).get("/login")).status).toBe(200);
    expect((await bucketContents()).keys).toEqual([sessionId]);
    // logout removes it
    expect((await browser.submit("/", "/logout", {})).status).toBe(303);
    expect((await bucketContents()).keys).toEqual([]);
  });
});

describe("sliding session expiry without a store write per page view", () => {
  const ownBucket = uniqueBucket("refresh");
  const REFRESH_MS = 400;
  let own: Frontend;

  beforeAll(async () => {
    own = await stack.startFrontend({ sessionBucket: ownBucket, sessionRefreshMs: REFRESH_MS });
  });

  afterAll(async () => {
    await own?.app.close();
    await (await stack.kv(ownBucket)).destroy();
  });

  it("page views inside the refresh interval write nothing; the first after it re-saves the session and its cookie", async () => {
    const kv = await stack.kv(ownBucket);
    const user = await seedUser(tdb.db);
    const browser = new Agent(own.url);
    expect(
      (await browser.submit("/login", "/login", { username: user.username, password: user.password })).status,
    ).toBe(303);
    const sessionId = decodeURIComponent(browser.cookies.get(cookieName)!).split(".")[0]!;
    const revision = async () => (await kv.get(bucketKeyOf(sessionId)))?.revision;
    const written = await revision();
    expect(written).toBeGreaterThan(0);

    for (let i = 0; i < 5; i++) {
      const page = await browser.get("/");
      expect(page.status).toBe(200);
      expect(page.setCookie.some((c) => c.startsWith(`${cookieName}=`))).toBe(false);
    }
    expect(await revision()).toBe(written);

    await sleep(REFRESH_MS + 50);
    const page = await browser.get("/");
    expect(page.status).toBe(200);
    expect(page.setCookie.some((c) => c.startsWith(`${cookieName}=`))).toBe(true);
    expect(await revision()).toBeGreaterThan(written!);
    // still the same session: the refresh slides its expiry, it does not replace it
    expect(decodeURIComponent(browser.cookies.get(cookieName)!).split(".")[0]).toBe(sessionId);
  });
});

describe("hardening and failure pages", () => {
  it("sends a strict CSP and the other security headers", async () => {
    const res = await new Agent(front.url).get("/login");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    expect(res.body).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
  });

  it("404 is a friendly page", async () => {
    const res = await new Agent(front.url).get("/no/such/page");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.body).toContain("Page not found");
  });

  it("health and readiness (KV reachable) on the public port", async () => {
    const agent = new Agent(front.url);
    expect((await agent.get("/healthz")).status).toBe(200);
    const ready = await agent.get("/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: "ready" });
  });

  it("the data service unreachable: a friendly 503, no stack trace, no crash", async () => {
    const down = await stack.startFrontend({ dataUrl: `http://127.0.0.1:${await freePort()}` });
    try {
      const agent = new Agent(down.url);
      const res = await agent.login("someone", "something");
      expect(res.status).toBe(503);
      expect(res.body).toContain("We can&#39;t reach your notes right now");
      expect(res.body).not.toMatch(/ECONNREFUSED|at .*\.ts:\d+|Error:/);
      expect((await agent.get("/healthz")).status).toBe(200);
    } finally {
      await down.app.close();
    }
  });

  it("the data service refusing the frontend's own consumer: a friendly 503 page", async () => {
    const wrong = await stack.startFrontend({ consumerSecret: "not-the-secret" });
    const revokedConsumer = await seedConsumer(tdb.db);
    await revokeConsumer(tdb.db, revokedConsumer.key, "test");
    const revoked = await stack.startFrontend({
      consumerKey: revokedConsumer.key,
      consumerSecret: revokedConsumer.secret,
    });
    try {
      const user = await seedUser(tdb.db);
      for (const app of [wrong, revoked]) {
        const res = await new Agent(app.url).login(user.username, user.password);
        expect(res.status).toBe(503);
        expect(res.body).toContain("Signet is temporarily unavailable");
        expect(res.body).toContain("Reference:");
      }
    } finally {
      await wrong.app.close();
      await revoked.app.close();
    }
  });

  it("TRUST_PROXY: behind a TLS-terminating proxy the cookies are Secure and __Host- prefixed", async () => {
    const secure = await stack.startFrontend({ cookieSecure: true, trustProxy: true });
    try {
      const https = { "x-forwarded-proto": "https" };
      const agent = new Agent(secure.url);
      const res = await agent.get("/login", https);
      expect(res.setCookie.some((c) => c.includes("signet.sid="))).toBe(false);
      const csrfLine = res.setCookie.find((c) => c.startsWith("__Host-signet.csrf="));
      for (const line of [csrfLine]) {
        expect(line).toMatch(/; Path=\/(;|$)/i);
        expect(line).toMatch(/; Secure/i);
        expect(line).toMatch(/; HttpOnly/i);
        expect(line).toMatch(/; SameSite=Lax/i);
        expect(line).not.toMatch(/; Domain=/i);
      }
      expect(res.headers.get("strict-transport-security")).toContain("max-age=");
      expect(res.headers.get("content-security-policy")).toContain("upgrade-insecure-requests");

      const user = await seedUser(tdb.db);
      const login = await agent.post(
        "/login",
        { _csrf: csrfOf(res.body), username: user.username, password: user.password, next: "/" },
        https,
      );
      expect(login.status).toBe(303);
      const sid = login.setCookie.find((c) => c.startsWith("__Host-signet.sid="));
      expect(sid).toMatch(/; Secure/i);
      expect(sid).toMatch(/; HttpOnly/i);
      expect(sid).toMatch(/; SameSite=Lax/i);
      // the anonymous CSRF secret is expired with the attributes a __Host- cookie needs
      const expired = login.setCookie.find((c) => c.startsWith("__Host-signet.csrf="));
      expect(expired).toMatch(/; Secure/i);
      expect(expired).toMatch(/Expires=Thu, 01 Jan 1970/i);
      expect((await agent.get("/", https)).status).toBe(200);
      const logout = await agent
        .get("/", https)
        .then((home) => agent.post("/logout", { _csrf: csrfOf(home.body) }, https));
      expect(logout.status).toBe(303);
      for (const name of ["__Host-signet.sid", "__Host-signet.csrf"]) {
        const line = logout.setCookie.find((c) => c.startsWith(`${name}=`));
        expect(line, name).toMatch(/; Secure/i);
        expect(line, name).toMatch(/Expires=Thu, 01 Jan 1970/i);
      }
    } finally {
      await secure.app.close();
    }
  });
});
