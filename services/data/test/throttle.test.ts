// The throttle every data pod shares (docs/api.md, "Login rate limits"): failed logins per
// (username, client address) and per client address, sign-ups per client address, counted
// in PostgreSQL so two pods give no more than one, a right password gives its attempt back,
// the owner from another address still gets in, filler traffic makes nothing be forgotten,
// and `client_ip` moves the key only for a consumer holding the `client-address` scope.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LightMyRequestResponse } from "fastify";
import type { ClientCredentials } from "@signet/shared/oauth";
import { purgeThrottle } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { MASTER_KEY, unique } from "@signet/test-support/keys";
import { metricValue } from "@signet/test-support/metrics";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedConsumer, seedUser, type SeededUser } from "@signet/test-support/seed";
import { signedRequest } from "@signet/test-support/signed";
import { loadDataConfig } from "../src/config.js";
import { addressKey } from "../src/plugins/rate-limit.js";

const tdb = useTestDatabase();
/** Two pods on one database, each with its own pool: the budget must be the same on both. */
let a: DataPod;
let b: DataPod;
/** A consumer like the frontend: it may pass the end user's address as client_ip. */
let front: ClientCredentials;
/** A consumer that may log users in but not name their address. */
let plain: ClientCredentials;

beforeAll(async () => {
  a = await startDataPod({ db: tdb.db, listen: false });
  b = await startDataPod({ databaseUrl: tdb.url, bus: a.bus, listen: false });
  front = await seedConsumer(tdb.db, { scopes: ["authenticate", "users:create", "client-address"] });
  plain = await seedConsumer(tdb.db, { scopes: ["authenticate", "users:create"] });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

interface Attempt {
  pod?: DataPod;
  consumer?: ClientCredentials;
  /** The body's client_ip. */
  clientIp?: string;
  /** The TCP peer app.inject pretends the request came from (default 127.0.0.1). */
  from?: string;
}

function login(
  user: { username: string },
  password: string,
  at: Attempt = {},
): Promise<LightMyRequestResponse> {
  const { pod = a, consumer = front, clientIp, from } = at;
  return pod.app.inject({
    ...signedRequest({
      method: "POST",
      url: "/authenticate",
      consumer,
      form: { username: user.username, password, ...(clientIp ? { client_ip: clientIp } : {}) },
    }),
    ...(from ? { remoteAddress: from } : {}),
  });
}

const statuses = (answers: LightMyRequestResponse[]) => answers.map((r) => r.statusCode);

function expectLimited(res: LightMyRequestResponse) {
  expect(res.statusCode, res.body).toBe(429);
  expect(res.json()).toEqual({ error: "rate_limited", message: expect.any(String) });
  const retry = Number(res.headers["retry-after"]);
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(60);
}

describe("failed logins: 10 per (username, address), shared by every pod", () => {
  let victim: SeededUser;
  beforeAll(async () => {
    victim = await seedUser(tdb.db);
  });

  it("counts failures on either pod in one budget; the 11th is refused on both, even with the right password", async () => {
    const ip = "203.0.113.10";
    for (let i = 0; i < 10; i++) {
      const res = await login(victim, "wrong password", { pod: i % 2 ? b : a, clientIp: ip });
      expect(res.statusCode, res.body).toBe(401);
    }
    expectLimited(await login(victim, "wrong password", { pod: a, clientIp: ip }));
    expectLimited(await login(victim, "wrong password", { pod: b, clientIp: ip }));
    expectLimited(await login(victim, victim.password, { pod: b, clientIp: ip }));
    // the username is matched whatever its case
    expectLimited(
      await login({ username: victim.username.toUpperCase() }, "wrong password", { clientIp: ip }),
    );
    expect(
      await metricValue(a.app, "signet_throttle_refusals_total", { budget: "login-user" }),
    ).toBeGreaterThan(0);
  });

  it("the owner, from another address, still signs in while the attacker's address is refused", async () => {
    const res = await login(victim, victim.password, { pod: b, clientIp: "198.51.100.20" });
    expect(res.statusCode, res.body).toBe(200);
    expectLimited(await login(victim, victim.password, { pod: a, clientIp: "203.0.113.10" }));
  });

  it("a concurrent burst on two pods gets exactly the budget: 10 answered, the rest refused", async () => {
    const user = await seedUser(tdb.db);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        login(user, `wrong ${i}`, { pod: i % 2 ? b : a, clientIp: "203.0.113.11" }),
      ),
    );
    const counted = statuses(answers);
    expect(counted.filter((s) => s === 401)).toHaveLength(10);
    expect(counted.filter((s) => s === 429)).toHaveLength(20);
  });

  it("a right password gives its attempt back: successful logins never count", async () => {
    const user = await seedUser(tdb.db);
    const ip = "203.0.113.12";
    for (let i = 0; i < 9; i++)
      expect((await login(user, "wrong password", { clientIp: ip })).statusCode).toBe(401);
    for (let i = 0; i < 5; i++) {
      expect((await login(user, user.password, { pod: i % 2 ? b : a, clientIp: ip })).statusCode).toBe(200);
    }
    expect((await login(user, "wrong password", { clientIp: ip })).statusCode).toBe(401); // the 10th failure
    expectLimited(await login(user, "wrong password", { clientIp: ip }));
  });

  it("a refused attempt takes nothing from the other budget (the address keeps its room)", async () => {
    const ip = "203.0.113.13";
    const user = await seedUser(tdb.db);
    for (let i = 0; i < 10; i++) await login(user, "wrong password", { clientIp: ip });
    for (let i = 0; i < 20; i++)
      expect((await login(user, "wrong password", { clientIp: ip })).statusCode).toBe(429);
    // 10 of the address's 100 are used, not 30: 90 other usernames still get an answer
    const others = await Promise.all(
      Array.from({ length: 90 }, () =>
        login({ username: unique("spray") }, "wrong password", { clientIp: ip }),
      ),
    );
    expect(statuses(others).every((s) => s === 401)).toBe(true);
    expectLimited(await login({ username: unique("spray") }, "wrong password", { clientIp: ip }));
  });
});

describe("failed logins: 100 per address", () => {
  it("refuses the 101st failure from one address, whatever the username, on either pod", async () => {
    const ip = "203.0.113.20";
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        login({ username: unique("spray") }, "wrong password", { pod: i % 2 ? b : a, clientIp: ip }),
      ),
    );
    expect(statuses(answers).every((s) => s === 401)).toBe(true);
    expectLimited(await login({ username: unique("spray") }, "wrong password", { pod: b, clientIp: ip }));
    // another address is untouched
    expect(
      (await login({ username: unique("spray") }, "wrong password", { clientIp: "203.0.113.21" })).statusCode,
    ).toBe(401);
  });

  it("filler requests with thousands of other usernames do not make the victim's counter forget", async () => {
    const victim = await seedUser(tdb.db);
    const ip = "203.0.113.30";
    for (let i = 0; i < 10; i++) await login(victim, "wrong password", { clientIp: ip });
    expectLimited(await login(victim, victim.password, { clientIp: ip }));
    // 5,500 attempts with other usernames from the same address (more keys than any
    // in-memory store held): 90 more failures, then refusals, which are cheap (no password check)
    const filler = async (from: number) => {
      for (let i = from; i < 5_500; i += 50) {
        await login({ username: `filler-${i}` }, "wrong password", { clientIp: ip });
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, from) => filler(from)));
    expectLimited(await login(victim, victim.password, { clientIp: ip }));
    expectLimited(await login(victim, victim.password, { pod: b, clientIp: ip }));
  }, 120_000);
});

describe("client_ip and the client address", () => {
  it("client_ip from a consumer without the client-address scope does not move the key", async () => {
    const user = await seedUser(tdb.db);
    // every attempt claims another address, but comes from the same peer
    for (let i = 0; i < 10; i++) {
      const res = await login(user, "wrong password", {
        consumer: plain,
        clientIp: `192.0.2.${i}`,
        from: "198.51.100.50",
      });
      expect(res.statusCode, res.body).toBe(401);
    }
    expectLimited(
      await login(user, "wrong password", { consumer: plain, clientIp: "192.0.2.99", from: "198.51.100.50" }),
    );
    // the same claim from the frontend-like consumer is honoured: another address, other budget
    expect(
      (await login(user, user.password, { clientIp: "192.0.2.99", from: "198.51.100.50" })).statusCode,
    ).toBe(200);
    // and a consumer without the scope from another peer is another address
    expect((await login(user, user.password, { consumer: plain, from: "198.51.100.51" })).statusCode).toBe(
      200,
    );
  });

  it("a client_ip that is not an address is 400 invalid_input from a consumer holding the scope, ignored otherwise", async () => {
    const user = await seedUser(tdb.db);
    for (const bad of ["", "not an address", "10.0.0.1, 10.0.0.2", "::ffff:1.2.3.4.5"]) {
      const res = await login(user, user.password, { clientIp: bad || " " });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error).toBe("invalid_input");
    }
    expect(
      (await login(user, user.password, { consumer: plain, clientIp: "not an address" })).statusCode,
    ).toBe(200);
  });

  it("one IPv6 /64 is one address; IPv4-mapped IPv6 is the IPv4 address", async () => {
    expect(addressKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:DB8:1:2::99")).toBe("2001:db8:1:2::/64");
    expect(addressKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(addressKey("::ffff:c000:201")).toBe("192.0.2.1");
    expect(addressKey("192.0.2.1")).toBe("192.0.2.1");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    const user = await seedUser(tdb.db);
    for (let i = 0; i < 10; i++)
      await login(user, "wrong password", { clientIp: `2001:db8:aa:bb::${i.toString(16)}` });
    expectLimited(await login(user, "wrong password", { clientIp: "2001:db8:aa:bb:ffff::1" }));
    expect((await login(user, user.password, { clientIp: "2001:db8:aa:bc::1" })).statusCode).toBe(200);
  });
});

describe("TRUST_PROXY: proxy hops", () => {
  it("behind one proxy (TRUST_PROXY=1) a client's own X-Forwarded-For entries move nothing", async () => {
    const env = { DATABASE_URL: tdb.url, NATS_URL: "nats://127.0.0.1:4222", SIGNET_MASTER_KEY: MASTER_KEY };
    expect(loadDataConfig({ ...env, TRUST_PROXY: "0" }).trustProxy).toBe(false);
    const { trustProxy } = loadDataConfig({ ...env, TRUST_PROXY: "1" });
    const proxied = await startDataPod({ db: tdb.db, bus: a.bus, listen: false, config: { trustProxy } });
    try {
      const user = await seedUser(tdb.db);
      // the proxy (10.0.0.5) appends the real peer; the client wrote the rest
      const attempt = (spoofed: string, password = "wrong password", peer = "198.51.100.70") => {
        const request = signedRequest({
          method: "POST",
          url: "/authenticate",
          consumer: plain,
          form: { username: user.username, password },
        });
        return proxied.app.inject({
          ...request,
          remoteAddress: "10.0.0.5",
          headers: { ...request.headers, "x-forwarded-for": `${spoofed}, ${peer}` },
        });
      };
      for (let i = 0; i < 10; i++) expect((await attempt(`192.0.2.${i}`)).statusCode).toBe(401);
      expectLimited(await attempt("192.0.2.200", user.password));
      // the owner, whom the proxy saw at another address, signs in
      expect((await attempt("192.0.2.0", user.password, "198.51.100.71")).statusCode).toBe(200);
    } finally {
      await proxied.close();
    }
  });
});

describe("sign-up: 10 per address, shared by every pod", () => {
  const signUp = (pod: DataPod, at: { clientIp?: string; from?: string; consumer?: ClientCredentials }) =>
    pod.app.inject({
      ...signedRequest({
        method: "POST",
        url: "/users",
        consumer: at.consumer ?? front,
        json: {
          username: unique("su"),
          password: "a good password",
          display_name: "New",
          ...(at.clientIp ? { client_ip: at.clientIp } : {}),
        },
      }),
      ...(at.from ? { remoteAddress: at.from } : {}),
    });

  it("the 11th sign-up from one address is refused, on either pod; another address signs up", async () => {
    for (let i = 0; i < 10; i++) {
      const res = await signUp(i % 2 ? b : a, { clientIp: "203.0.113.40" });
      expect(res.statusCode, res.body).toBe(201);
    }
    expectLimited(await signUp(a, { clientIp: "203.0.113.40" }));
    expectLimited(await signUp(b, { clientIp: "203.0.113.40" }));
    expect((await signUp(b, { clientIp: "203.0.113.41" })).statusCode).toBe(201);
    // a consumer without client-address is counted by its own address, whatever it claims
    for (let i = 0; i < 10; i++)
      await signUp(a, { consumer: plain, clientIp: `192.0.2.${i}`, from: "198.51.100.60" });
    expectLimited(await signUp(b, { consumer: plain, clientIp: "192.0.2.200", from: "198.51.100.60" }));
  });
});

describe("the throttle's rows", () => {
  it("hold no username or address in clear, and expired ones are purged", async () => {
    const rows = await tdb.db.selectFrom("throttle").select(["key", "expires_at"]).execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(Buffer.from(row.key)).toHaveLength(16);
    await tdb.db.updateTable("throttle").set({ expires_at: 0 }).execute();
    expect(await purgeThrottle(tdb.db)).toBeGreaterThan(0);
    expect(await tdb.db.selectFrom("throttle").select("key").execute()).toEqual([]);
  });
});
