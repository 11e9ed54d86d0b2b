// The outbox relay: id order, rows claimed with `for update skip locked` so two relays
// (two registry replicas) never publish the same row twice, young rows left to the
// request that wrote them, nothing lost while NATS is down.
import { afterAll, describe, expect, it } from "vitest";
import pino from "pino";
import { NatsBus } from "@signet/shared/bus";
import { createDb } from "@signet/shared/db";
import { addOutboxEvent } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { usePrivateNats } from "@signet/test-support/hooks";
import { sleep, waitFor } from "@signet/test-support/wait";
import { OutboxRelay } from "../src/plugins/relay.js";

const tdb = useTestDatabase();
const log = pino({ level: "silent" });
const nats = usePrivateNats();
const busses: NatsBus[] = [];
const connect = async (name: string) => {
  const bus = await NatsBus.connect({ servers: nats.url, name });
  busses.push(bus);
  return bus;
};

afterAll(async () => {
  await Promise.all(busses.map((b) => b.close()));
});

const pending = async () =>
  (await tdb.db.selectFrom("outbox").select("id").where("published_at", "is", null).execute()).length;

/** Outbox rows on `subject` whose payloads are { n: 0 }, { n: 1 }, … */
async function addEvents(subject: string, count: number) {
  for (let n = 0; n < count; n++) await addOutboxEvent(tdb.db, subject, { n });
}

/** A connection of its own that collects the `n` of every event on `subject` from now on. */
async function listen(subject: string) {
  const listener = await connect(`${subject}-listener`);
  const seen: number[] = [];
  listener.subscribe(subject, (payload) => void seen.push((payload as { n: number }).n));
  await listener.nc.flush();
  return {
    seen,
    /** Waits until what was published has had time to arrive. */
    settle: async () => {
      await listener.nc.flush();
      await sleep(100);
    },
  };
}

describe("outbox relay", () => {
  it("two relays drain 300 rows concurrently: every row published exactly once", async () => {
    await addEvents("signet.test.relay", 300);
    const listener = await listen("signet.test.relay");

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
    await listener.settle();
    expect([...listener.seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it("publishes in id order", async () => {
    await addEvents("signet.test.order", 50);
    const listener = await listen("signet.test.order");
    const relay = new OutboxRelay({
      db: tdb.db,
      bus: await connect("order"),
      log,
      intervalMs: 60_000,
      minAgeMs: 0,
      batchSize: 7,
    });
    expect(await relay.tick()).toBe(50);
    await listener.settle();
    expect(listener.seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
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
      await waitFor("the relay's connection to drop", () => !bus.isConnected());
      await addOutboxEvent(tdb.db, "signet.test.down", { n: 1 });
      await sleep(300); // several ticks while down
      expect(await pending()).toBe(1);
      await nats.start();
      await waitFor("the relay to publish the row", async () => (await pending()) === 0, 10_000, 50);
      expect(await pending()).toBe(0);
    } finally {
      await relay.stop();
    }
  });
});
