import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { common, ConfigError, configDefaults, loadConfig, setting } from "../src/config.js";
import { Keyring, randomToken, safeEqual } from "../src/crypto.js";
import { hashPassword, verifyPassword } from "../src/passwords.js";
import { LocalBus, NatsBus } from "../src/bus.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { useTestDatabase } from "@signet/test-support/db";
import { startPrivateNats, testNatsUrl } from "@signet/test-support/nats";

describe("config", () => {
  const table = {
    port: common.port(8000),
    databaseUrl: common.databaseUrl,
    natsUrl: common.natsUrl,
    drainDelayMs: common.drainDelayMs(0),
    windowMs: setting.int("TEST_WINDOW_MS", 500, { min: 0, max: 30_000, services: ["registry"] }),
    afterWindowMs: setting.int("TEST_AFTER_MS", (earlier) => (earlier.windowMs as number) + 2_000, {
      services: ["registry"],
    }),
  };

  it("names every missing and invalid setting in one error", () => {
    const load = () => loadConfig("data", table, { PORT: "nope" });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/DATABASE_URL, NATS_URL.*PORT must be an integer/);
  });

  it("reads SIGNET_DRAIN_DELAY_MS as a bounded integer with a per-service default", () => {
    const drain = (value: string | undefined, fallback = 0) =>
      loadConfig("test", { drainDelayMs: common.drainDelayMs(fallback) }, { SIGNET_DRAIN_DELAY_MS: value })
        .drainDelayMs;
    expect(drain(undefined)).toBe(0);
    expect(drain(undefined, 2_000)).toBe(2_000);
    expect(drain("5000", 2_000)).toBe(5_000);
    for (const bad of ["5s", "-1", "60001"]) {
      expect(() => drain(bad), bad).toThrow(/SIGNET_DRAIN_DELAY_MS/);
    }
  });

  it("derives a default from the settings before it, in the loader and in the test defaults alike", () => {
    const env = { DATABASE_URL: "postgres://x", NATS_URL: "nats://x", TEST_WINDOW_MS: "100" };
    expect(loadConfig("registry", table, env).afterWindowMs).toBe(2_100);
    expect(configDefaults(table, { windowMs: 250 }).afterWindowMs).toBe(2_250);
    expect(configDefaults(table).afterWindowMs).toBe(2_500);
    expect(configDefaults(table, { windowMs: 0, afterWindowMs: 7 }).afterWindowMs).toBe(7);
  });

  it("parses the master key ring in config and refuses a bad one by name", () => {
    const key = Keyring.generateKey();
    const { keyring } = loadConfig("data", { keyring: common.keyring }, { SIGNET_MASTER_KEY: key });
    expect(keyring.current.id).toBe(Keyring.fromEnv(key).current.id);
    expect(() => loadConfig("data", { keyring: common.keyring }, { SIGNET_MASTER_KEY: "c2hvcnQ=" })).toThrow(
      /SIGNET_MASTER_KEY is invalid/,
    );
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
        "nonce_keys",
        "nonce_log",
        "nonce_guard",
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
