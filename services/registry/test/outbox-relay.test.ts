// The outbox relay: id order, rows claimed with `for update skip locked` so two relays
// (two registry replicas) never publish the same row twice, young rows left to the
// request that wrote them, nothing lost while NATS is down.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { NatsBus } from "@signet/shared/bus";
import { createDb } from "@signet/shared/db";
import { addOutboxEvent } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { startPrivateNats, type PrivateNats } from "@signet/test-support/nats";
import { OutboxRelay } from "../src/plugins/relay.js";

const tdb = useTestDatabase();
const log = pino({ level: "silent" });
let nats: PrivateNats;
const busses: NatsBus[] = [];
const connect = async (name: string) => {
  const bus = await NatsBus.connect({ servers: nats.url, name });
  busses.push(bus);
  return bus;
};

beforeAll(async () => {
  nats = await startPrivateNats();
});
afterAll(async () => {
  await Promise.all(busses.map((b) => b.close()));
  await nats?.dispose();
});

const pending = async () =>
  (await tdb.db.selectFrom("outbox").select("id").where("published_at", "is", null).execute()).length;

describe("outbox relay", () => {
  it("two relays drain 300 rows concurrently: every row published exactly once", async () => {
    for (let n = 0; n < 300; n++) await addOutboxEvent(tdb.db, "signet.test.relay", { n });
    const listener = await connect("listener");
    const seen: number[] = [];
    listener.subscribe("signet.test.relay", (payload) => void seen.push((payload as { n: number }).n));
    await listener.nc.flush();

    const relays = await Promise.all(
      ["relay-1", "relay-2"].map(async (name) => {
        const db = createDb(tdb.url, { max: 2 });
        const relay = new OutboxRelay({
          db,
          bus: await connect(name),
          log,
          intervalMs: 60_000,
          minAgeMs: 0,
          batchSize: 25,
        });
        return { relay, db };
      }),
    );
    const published = await Promise.all(relays.map(({ relay }) => relay.tick()));
    await Promise.all(relays.map(({ db }) => db.destroy()));
    expect(published[0]! + published[1]!).toBe(300);
    expect(await pending()).toBe(0);
    await listener.nc.flush();
    await new Promise((r) => setTimeout(r, 100));
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it("publishes in id order", async () => {
    for (let n = 0; n < 50; n++) await addOutboxEvent(tdb.db, "signet.test.order", { n });
    const listener = await connect("order-listener");
    const seen: number[] = [];
    listener.subscribe("signet.test.order", (payload) => void seen.push((payload as { n: number }).n));
    await listener.nc.flush();
    const relay = new OutboxRelay({
      db: tdb.db,
      bus: await connect("order"),
      log,
      intervalMs: 60_000,
      minAgeMs: 0,
      batchSize: 7,
    });
    expect(await relay.tick()).toBe(50);
    await listener.nc.flush();
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("leaves rows younger than minAgeMs to the request that wrote them", async () => {
    const bus = await connect("young");
    await addOutboxEvent(tdb.db, "signet.test.young", { n: 1 });
    const relay = new OutboxRelay({ db: tdb.db, bus, log, intervalMs: 60_000, minAgeMs: 10_000 });
    expect(await relay.tick()).toBe(0);
    expect(await pending()).toBe(1);
    const eager = new OutboxRelay({ db: tdb.db, bus, log, intervalMs: 60_000, minAgeMs: 0 });
    expect(await eager.tick()).toBe(1);
    expect(await pending()).toBe(0);
  });

  it("keeps rows while NATS is down and publishes them once it is back (started relay, timer-driven)", async () => {
    const bus = await connect("flaky");
    const relay = new OutboxRelay({ db: tdb.db, bus, log, intervalMs: 50, minAgeMs: 0 });
    relay.start();
    try {
      await nats.stop();
      while (bus.isConnected()) await new Promise((r) => setTimeout(r, 10));
      await addOutboxEvent(tdb.db, "signet.test.down", { n: 1 });
      await new Promise((r) => setTimeout(r, 300)); // several ticks while down
      expect(await pending()).toBe(1);
      await nats.start();
      const deadline = Date.now() + 10_000;
      while ((await pending()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await pending()).toBe(0);
    } finally {
      await relay.stop();
    }
  });
});
