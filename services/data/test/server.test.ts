// Production mode: missing settings stop the process at once, naming them; on SIGTERM an
// in-flight request finishes and the process exits cleanly.
import { afterAll, beforeAll, expect, it } from "vitest";
import { ConfigError } from "@signet/shared/config";
import { type ClientCredentials } from "@signet/shared/oauth";
import { useTestDatabase } from "@signet/test-support/db";
import { testNatsUrl } from "@signet/test-support/nats";
import { freePort, waitForPort } from "@signet/test-support/net";
import { MASTER_KEY } from "@signet/test-support/keys";
import { spawnCaptured, type CapturedProcess } from "@signet/test-support/processes";
import { seedConsumer, seedUser, type SeededUser } from "@signet/test-support/seed";
import { signedFetch } from "@signet/test-support/signed";
import { sleep } from "@signet/test-support/wait";
import { loadDataConfig } from "../src/config.js";
import { login } from "./helpers.js";

const tdb = useTestDatabase();

it("loadDataConfig names every missing setting in one error", () => {
  expect(() => loadDataConfig({})).toThrow(ConfigError);
  try {
    loadDataConfig({});
  } catch (error) {
    expect((error as Error).message).toMatch(/DATABASE_URL/);
    expect((error as Error).message).toMatch(/NATS_URL/);
    expect((error as Error).message).toMatch(/SIGNET_MASTER_KEY/);
  }
  expect(() =>
    loadDataConfig({ DATABASE_URL: "postgres://x", NATS_URL: "nats://x", SIGNET_MASTER_KEY: "dG9vIHNob3J0" }),
  ).toThrow(/SIGNET_MASTER_KEY is invalid/);
  expect(() =>
    loadDataConfig({
      DATABASE_URL: "postgres://x",
      NATS_URL: "nats://x",
      SIGNET_MASTER_KEY: MASTER_KEY,
      SIGNET_TIMESTAMP_WINDOW: "soon",
    }),
  ).toThrow(/SIGNET_TIMESTAMP_WINDOW/);
  const config = loadDataConfig({
    DATABASE_URL: "postgres://x",
    NATS_URL: "nats://x",
    SIGNET_MASTER_KEY: MASTER_KEY,
    SIGNET_PUBLIC_URL: "https://api.example.com",
    TRUST_PROXY: "true",
  });
  expect(config).toMatchObject({
    port: 8000,
    host: "0.0.0.0",
    timestampWindow: 300,
    tokenTtl: 28_800,
    trustProxy: true,
    publicUrl: "https://api.example.com",
    drainDelayMs: 0,
  });
  const env = { DATABASE_URL: "postgres://x", NATS_URL: "nats://x", SIGNET_MASTER_KEY: MASTER_KEY };
  expect(loadDataConfig({ ...env, SIGNET_DRAIN_DELAY_MS: "5000" }).drainDelayMs).toBe(5000);
  expect(() => loadDataConfig({ ...env, SIGNET_DRAIN_DELAY_MS: "5s" })).toThrow(/SIGNET_DRAIN_DELAY_MS/);
  expect(() => loadDataConfig({ ...env, SIGNET_DRAIN_DELAY_MS: "-1" })).toThrow(/SIGNET_DRAIN_DELAY_MS/);
});

it("npm run start:data with an empty environment exits at once naming the missing settings", async () => {
  const proc = spawnCaptured("npm", ["run", "--silent", "start:data"], {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
  });
  const code = await proc.exited;
  expect(code).toBe(78);
  expect(proc.stderr()).toMatch(/missing required setting\(s\): DATABASE_URL, NATS_URL, SIGNET_MASTER_KEY/);
}, 30_000);

describe_sigterm();

function describe_sigterm() {
  let consumer: ClientCredentials;
  let user: SeededUser;
  beforeAll(async () => {
    consumer = await seedConsumer(tdb.db);
    user = await seedUser(tdb.db);
  });
  let proc: CapturedProcess | undefined;
  afterAll(() => {
    if (proc && proc.child.exitCode === null) proc.child.kill("SIGKILL");
  });

  it("on SIGTERM an in-flight request finishes, then the process exits 0", async () => {
    const port = await freePort();
    proc = spawnCaptured(
      process.execPath,
      ["--conditions=@signet/source", "--import", "tsx", "services/data/src/server.ts"],
      {
        PATH: process.env.PATH ?? "",
        DATABASE_URL: tdb.url,
        NATS_URL: testNatsUrl(),
        SIGNET_MASTER_KEY: MASTER_KEY,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        SIGNET_POD_ID: "sigterm-test",
      },
    );
    await waitForPort(port, 20_000);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    // argon2id takes tens of milliseconds: the login is in flight when SIGTERM arrives
    const inFlight = signedFetch(base, login(consumer, user));
    await sleep(15);
    proc.child.kill("SIGTERM");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { token: string }).token).toEqual(expect.any(String));
    const exitCode = await proc.exited;
    if (exitCode !== 0) console.log(proc.stdout().slice(-3000), proc.stderr().slice(-2000));
    expect(exitCode).toBe(0);
    expect(proc.stdout()).toContain('"msg":"shutting down"');
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 40_000);
}
