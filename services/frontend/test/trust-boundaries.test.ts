// The frontend's trust boundaries, tried as an attacker would (docs/api.md, "Frontend"), over
// HTTP against the real data service with sessions and rate-limit counters on NATS KV:
// - a reader of the session bucket learns no credential, and a value sealed under one
//   SESSION_SECRET (or for another session, or written before sealing) opens nowhere else;
// - `next` never leaves the origin, however URL normalisation rewrites it;
// - the login and sign-up limits are one budget across replicas, and no filler traffic
//   makes a counter be forgotten;
// - /metrics answers on METRICS_PORT only;
// - a URL Fastify cannot decode gets the HTML 400 page.
import type { Session } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Signer } from "@fastify/cookie";
import { Agent, csrfOf } from "@signet/test-support/agent";
import { useTestDatabase } from "@signet/test-support/db";
import { unique } from "@signet/test-support/keys";
import { answers, freePort } from "@signet/test-support/net";
import { seedUser } from "@signet/test-support/seed";
import type { LoginResult } from "../src/plugins/data-client.js";
import { bucketKeyOf, SessionSeal } from "../src/session-seal.js";
import { NatsKvSessionStore } from "../src/session-store.js";
import {
  SESSION_SECRET,
  uniqueBucket,
  untilWindowLeaves,
  useFrontendStack,
  type Frontend,
} from "./helpers.js";

const tdb = useTestDatabase();
const stack = useFrontendStack(tdb, { label: "trust" });
const { front } = stack;
const cookieName = "signet.sid";

/** The session id in an agent's cookie. */
const sessionIdOf = (agent: Agent) => decodeURIComponent(agent.cookies.get(cookieName)!).split(".")[0]!;

/** What the data service answered to each login through `front` (token, secret, user). */
const logins: LoginResult[] = [];
beforeAll(() => {
  const client = front.app.dataClient;
  const authenticate = client.authenticate.bind(client);
  client.authenticate = async (...args) => {
    const result = await authenticate(...args);
    logins.push(result);
    return result;
  };
});

/** Signs a new user in on `front`: the agent and what the data service issued. */
async function signedIn(): Promise<{ agent: Agent; login: LoginResult; sessionId: string }> {
  const user = await seedUser(tdb.db);
  const agent = new Agent(front.url);
  expect((await agent.login(user.username, user.password)).status).toBe(303);
  const login = logins.find((l) => l.user.username === user.username)!;
  return { agent, login, sessionId: sessionIdOf(agent) };
}

describe("session values are sealed", () => {
  it("an outsider reading the bucket finds neither the token, nor its secret, nor the user's data", async () => {
    const { login, sessionId } = await signedIn();
    const kv = await stack.kv();
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    expect(keys).toContain(bucketKeyOf(sessionId));
    expect(keys).not.toContain(sessionId); // the key is no session id (nor a cookie to forge)
    const secrets = [login.token, login.secret, login.user.id, login.user.username, login.user.display_name];
    for (const key of keys) {
      const entry = await kv.get(key);
      const text = entry!.string();
      for (const secret of [...secrets, sessionId]) {
        expect(text).not.toContain(secret);
        expect(Buffer.from(entry!.value).includes(Buffer.from(secret))).toBe(false);
      }
      expect(() => JSON.parse(text)).toThrow();
    }
  });

  it("a value sealed under one SESSION_SECRET opens under no other; rotation keeps it open", async () => {
    const { sessionId, login } = await signedIn();
    const nc = stack.bus.nc;
    const read = async (secrets: string[]) => {
      const store = await NatsKvSessionStore.open(nc, {
        bucket: stack.bucket,
        ttlMs: 3_600_000,
        seal: new SessionSeal(secrets),
      });
      return new Promise<Session | null | undefined>((resolve, reject) =>
        store.get(sessionId, (error, session) => (error ? reject(error as Error) : resolve(session))),
      );
    };
    const other = "another-session-secret-of-32-characters-or-more";
    expect(await read([other])).toBeNull();
    expect((await read([other, SESSION_SECRET]))?.auth?.token).toBe(login.token);

    // the frontend itself, SESSION_SECRET rotated (new first, old after): the session still works
    const rotated = await stack.startFrontend({ sessionSecret: `${other},${SESSION_SECRET}` });
    try {
      const agent = new Agent(rotated.url);
      agent.cookies.set(cookieName, encodeURIComponent(new Signer(SESSION_SECRET).sign(sessionId)));
      expect((await agent.get("/")).status).toBe(200);
    } finally {
      await rotated.app.close();
    }
  });

  it("a sealed value copied under another session's key does not open: that visitor is signed out", async () => {
    const victim = await signedIn();
    const attacker = await signedIn();
    const kv = await stack.kv();
    const stolen = (await kv.get(bucketKeyOf(victim.sessionId)))!.string();
    await kv.put(bucketKeyOf(attacker.sessionId), stolen);
    const res = await attacker.agent.get("/");
    expect(res.status).toBe(302);
    expect(res.location).toBe("/login?next=/");
    expect((await victim.agent.get("/")).status).toBe(200);
  });

  it("a session stored before sealing (plaintext JSON) is signed out, without an error", async () => {
    const { login } = await signedIn();
    const kv = await stack.kv();
    const legacyId = unique("legacy")
      .replace(/[^A-Za-z0-9_-]/g, "x")
      .padEnd(32, "x");
    const plaintext = JSON.stringify({
      cookie: {
        originalMaxAge: 3_600_000,
        expires: new Date(Date.now() + 3_600_000).toISOString(),
        path: "/",
      },
      user: login.user,
      auth: { token: login.token, secret: login.secret, expiresAt: login.expires_at },
    });
    // as the old code wrote it (under the id), and under the key the new code reads
    await kv.put(legacyId, plaintext);
    await kv.put(bucketKeyOf(legacyId), plaintext);
    const agent = new Agent(front.url);
    agent.cookies.set(cookieName, encodeURIComponent(new Signer(SESSION_SECRET).sign(legacyId)));
    const res = await agent.get("/");
    expect(res.status).toBe(302);
    expect(res.location).toBe("/login?next=/");
    const form = await agent.get("/login");
    expect(form.status).toBe(200);
    expect(form.body).toContain('action="/login"');
  });
});

describe("next survives only as a same-origin path, checked after normalisation", () => {
  const OFF_ORIGIN = [
    "//evil.example",
    "///evil.example",
    "/.//evil.example",
    "/./evil.example/..//evil.example",
    "/a/..//evil.example",
    "/..//evil.example",
    "/x/../..//evil.example",
    "/%2e//evil.example",
    "/%2E%2E//evil.example",
    "/%2e%2e/%2e%2e//evil.example",
    "/\\evil.example",
    "/./\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    "/ /evil.example",
    "https://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "/login?next=//evil.example",
  ];
  const SAME_ORIGIN: [string, string][] = [
    ["/%2F%2Fevil.example", "/%2F%2Fevil.example"], // one path segment here; browsers do not decode it
    ["/%5Cevil.example", "/%5Cevil.example"],
    ["/?page=2", "/?page=2"],
    ["/a/b/../c", "/a/c"],
    ["/#//evil.example", "/#//evil.example"],
  ];
  const CASES: [string, string][] = [
    ...OFF_ORIGIN.map((next): [string, string] => [next, "/"]),
    ...SAME_ORIGIN,
  ];

  it("the Location after a successful login", async () => {
    const user = await seedUser(tdb.db);
    for (const [next, expected] of CASES) {
      const agent = new Agent(front.url);
      const res = await agent.submit(`/login?next=${encodeURIComponent(next)}`, "/login", {
        username: user.username,
        password: user.password,
        next,
      });
      expect(res.status, JSON.stringify(next)).toBe(303);
      expect(res.location, JSON.stringify(next)).toBe(expected);
    }
  });

  it("the Location of /login and /signup for a visitor already signed in, and the login form's hidden field", async () => {
    const { agent } = await signedIn();
    for (const [next, expected] of CASES) {
      for (const page of ["/login", "/signup"]) {
        const res = await agent.get(`${page}?next=${encodeURIComponent(next)}`);
        expect(res.status, `${page} ${JSON.stringify(next)}`).toBe(302);
        expect(res.location, `${page} ${JSON.stringify(next)}`).toBe(expected);
      }
      const form = await new Agent(front.url).get(`/login?next=${encodeURIComponent(next)}`);
      expect(form.body).toContain(`name="next" value="${expected.replace(/&/g, "&amp;")}"`);
    }
  });

  it("the Location after a sign-up", async () => {
    for (const [next, expected] of [
      ["/.//evil.example", "/"],
      ["/%2e//evil.example", "/"],
      ["/?page=2", "/?page=2"],
    ]) {
      const res = await new Agent(front.url).submit("/signup", "/signup", {
        username: unique("su"),
        password: "a long enough password",
        display_name: "Sign Up",
        next: next!,
      });
      expect(res.status, next).toBe(303);
      expect(res.location, next).toBe(expected);
    }
  });
});

describe("login and sign-up limits: one budget for every replica", () => {
  const limits = uniqueBucket("shared-limits");
  let a: Frontend;
  let b: Frontend;

  beforeAll(async () => {
    const options = { loginRateLimit: 3, signupRateLimit: 1, rateLimitBucket: limits };
    a = await stack.startFrontend(options);
    b = await stack.startFrontend(options);
  });

  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await (await stack.kv(limits)).destroy();
  });

  it("attempts on either replica count against the same per-address budget", async () => {
    await untilWindowLeaves(15_000);
    const onA = new Agent(a.url);
    const onB = new Agent(b.url);
    for (const agent of [onA, onB, onA]) expect((await agent.login("nobody", "wrong")).status).toBe(401);
    for (const agent of [onB, onA]) {
      const refused = await agent.login("nobody", "wrong");
      expect(refused.status).toBe(429);
      expect(refused.body).toContain("Too many attempts");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    const bad = { username: "x", password: "y", display_name: "" };
    expect((await onA.submit("/signup", "/signup", bad)).status).toBe(400);
    expect((await onB.submit("/signup", "/signup", bad)).status).toBe(429);
  });

  it("no amount of other addresses' traffic makes a counter be forgotten", async () => {
    await untilWindowLeaves(30_000);
    const victim = "203.0.113.7";
    const FORM = { "content-type": "application/x-www-form-urlencoded" };
    const post = (remoteAddress: string) =>
      a.app.inject({ method: "POST", url: "/login", remoteAddress, payload: "", headers: FORM });
    // three attempts (refused for want of a CSRF token, but counted: the limit runs first)
    for (let i = 0; i < 3; i++) expect((await post(victim)).statusCode).toBe(403);
    // filler from 6,000 other addresses: more than @fastify/rate-limit's default LRU of 5,000 holds
    const FILLER = 6_000;
    for (let at = 0; at < FILLER; at += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => post(`10.9.${((at + i) >> 8) & 255}.${(at + i) & 255}`)),
      );
    }
    const after = await post(victim);
    expect(after.statusCode).toBe(429);
    expect(after.body).toContain("Too many attempts");
  }, 60_000);
});

describe("metrics on METRICS_PORT only", () => {
  it("the public port answers /metrics with 404; METRICS_PORT serves it and closes with the app", async () => {
    const port = await freePort();
    const app = await stack.startFrontend({ metricsPort: port });
    const metricsUrl = `http://127.0.0.1:${port}`;
    try {
      const agent = new Agent(app.url);
      expect((await agent.get("/login")).status).toBe(200);
      const pub = await agent.get("/metrics");
      expect(pub.status).toBe(404);
      expect(pub.headers.get("content-type")).toContain("text/html");
      expect(pub.body).not.toContain("signet_http_requests_total");

      const scraped = await fetch(`${metricsUrl}/metrics`);
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get("content-type")).toContain("text/plain");
      const text = await scraped.text();
      expect(text).toMatch(/signet_http_requests_total\{[^}]*route="\/login"[^}]*service="frontend"/);
      expect((await fetch(`${metricsUrl}/`)).status).toBe(404);
      expect((await fetch(`${metricsUrl}/login`)).status).toBe(404);

      // a second app cannot take the same metrics port: its start fails, loudly
      await expect(stack.startFrontend({ metricsPort: port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await app.app.close();
    }
    expect(await answers(port)).toBe(false);
  });
});

describe("malformed URLs", () => {
  it.each(["/%ZZ", "/%E0%A4%A", "/notes/%ZZ/delete", "/static/%E0%A4%A", "/%"])(
    "%s answers the HTML 400 page with the security headers",
    async (path) => {
      const res = await new Agent(front.url).get(path);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.body).toContain("We couldn&#39;t understand that request");
      expect(res.body).not.toContain("FST_ERR");
      expect(res.headers.get("content-security-policy")).toContain("script-src 'none'");
      expect(res.headers.get("cache-control")).toBe("no-store");
      // the same security headers as a page served through the routes (helmet)
      const page = await new Agent(front.url).get("/login");
      for (const name of [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
      ])
        expect(res.headers.get(name), name).toBe(page.headers.get(name));
    },
  );

  it("a malformed query string is no error: the login form", async () => {
    const res = await new Agent(front.url).get("/login?next=%ZZ&reason=%E0%A4%A");
    expect(res.status).toBe(200);
    expect(res.body).toContain('name="next" value="/"');
    expect(csrfOf(res.body)).toBeTruthy();
  });
});
