import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { EnvReader, ConfigError, readCommon } from "../src/config.js";
import { Keyring, randomToken, safeEqual } from "../src/crypto.js";
import { hashPassword, verifyPassword } from "../src/passwords.js";
import { LocalBus, NatsBus } from "../src/bus.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { useTestDatabase } from "../test-support/db.js";
import { startPrivateNats, testNatsUrl } from "../test-support/nats.js";

describe("config", () => {
  it("names every missing and invalid setting in one error", () => {
    const env = new EnvReader({ PORT: "nope" });
    env.required("DATABASE_URL");
    env.required("NATS_URL");
    env.int("PORT", 8000);
    expect(() => env.done("data")).toThrow(ConfigError);
    expect(() => env.done("data")).toThrow(/DATABASE_URL, NATS_URL.*PORT must be an integer/);
  });

  it("reads SIGNET_DRAIN_DELAY_MS as a bounded integer with a per-service default", () => {
    const drain = (value: string | undefined, defaults = {}) => {
      const env = new EnvReader({ SIGNET_DRAIN_DELAY_MS: value });
      const { drainDelayMs } = readCommon(env, 8000, defaults);
      env.done("test");
      return drainDelayMs;
    };
    expect(drain(undefined)).toBe(0);
    expect(drain(undefined, { drainDelayMs: 2_000 })).toBe(2_000);
    expect(drain("5000", { drainDelayMs: 2_000 })).toBe(5_000);
    for (const bad of ["5s", "-1", "60001"]) {
      expect(() => drain(bad), bad).toThrow(/SIGNET_DRAIN_DELAY_MS/);
    }
  });
});

describe("keyring", () => {
  const key = Keyring.generateKey();
  it("seals and opens, bound to its context", () => {
    const ring = Keyring.fromEnv(key);
    const sealed = ring.seal("s3cret", "consumer:a");
    expect(sealed).not.toContain("s3cret");
    expect(ring.open(sealed, "consumer:a")).toBe("s3cret");
    expect(() => ring.open(sealed, "consumer:b")).toThrow();
  });
  it("opens values sealed under an older key after rotation", () => {
    const old = Keyring.fromEnv(key);
    const sealed = old.seal("v", "ctx");
    const rotated = Keyring.fromEnv(`${Keyring.generateKey()},${key}`);
    expect(rotated.open(sealed, "ctx")).toBe("v");
    expect(rotated.seal("v", "ctx").split(".")[1]).not.toBe(sealed.split(".")[1]);
  });
  it("refuses a key of the wrong length", () => {
    expect(() => Keyring.fromEnv(Buffer.alloc(16).toString("base64"))).toThrow(/32 bytes/);
  });
  it("makes distinct random tokens and compares in constant time", () => {
    expect(randomToken()).not.toBe(randomToken());
    expect(randomToken()).toHaveLength(43);
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
  });
});

describe("passwords", () => {
  it("hashes with argon2id and verifies", async () => {
    const hash = await hashPassword("correct horse");
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(await verifyPassword(hash, "correct horse")).toBe(true);
    expect(await verifyPassword(hash, "wrong")).toBe(false);
    expect(await verifyPassword(null, "anything")).toBe(false);
  });
});

describe("database", () => {
  const t = useTestDatabase();
  it("is migrated and migrations are idempotent", async () => {
    const again = await migrateToLatest(t.db);
    expect(again.results).toEqual([]);
    const tables = await sql<{
      table_name: string;
    }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(t.db);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        "users",
        "consumers",
        "access_tokens",
        "nonces",
        "nonce_keys",
        "notes",
        "audit_events",
        "outbox",
      ]),
    );
  });
});

describe("bus", () => {
  it("delivers and gathers replies in process", async () => {
    const bus = new LocalBus();
    bus.subscribe("s", (p) => ({ got: p }));
    bus.subscribe("s", () => ({ got: "second" }));
    expect(await bus.gather("s", { a: 1 }, { windowMs: 100 })).toEqual([
      { got: { a: 1 } },
      { got: "second" },
    ]);
  });

  it("gathers replies over NATS", async () => {
    const a = await NatsBus.connect({ servers: testNatsUrl(), name: "t-a" });
    const b = await NatsBus.connect({ servers: testNatsUrl(), name: "t-b" });
    const subject = `test.${randomToken(4)}`;
    b.subscribe(subject, (p) => ({ echo: p }));
    await (b as NatsBus).nc.flush();
    expect(await a.gather(subject, { x: 1 }, { windowMs: 500, expected: 1 })).toEqual([{ echo: { x: 1 } }]);
    await a.close();
    await b.close();
  });

  it("reports disconnect and reconnect of a private server", async () => {
    const nats = await startPrivateNats();
    const bus = await NatsBus.connect({ servers: nats.url, name: "t-status" });
    const seen: string[] = [];
    bus.onStatus((s) => seen.push(s));
    await nats.stop();
    await expect.poll(() => seen, { timeout: 10_000 }).toContain("disconnected");
    expect(bus.isConnected()).toBe(false);
    await nats.start();
    await expect.poll(() => seen, { timeout: 10_000 }).toContain("reconnected");
    expect(bus.isConnected()).toBe(true);
    await bus.close();
    await nats.dispose();
  });
});
