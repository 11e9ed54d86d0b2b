// The authenticated bus: what a service acts on carries a MAC bound to the subject (and, for
// a reply, to the message it answers); anything else is dropped and reported.
import { afterAll, describe, expect, it } from "vitest";
import { AuthenticatedBus, type RejectReason } from "../src/bus-auth.js";
import { LocalBus, NatsBus, type Bus, type GatherOptions } from "../src/bus.js";
import { Keyring } from "../src/crypto.js";
import { testNatsUrl } from "@signet/test-support/nats";
import { sleep } from "@signet/test-support/wait";

const KEY_A = Keyring.generateKey();
const KEY_B = Keyring.generateKey();

function authenticated(inner: Bus, masterKey = KEY_A) {
  const rejected: { subject: string; reason: RejectReason }[] = [];
  const bus = new AuthenticatedBus(inner, {
    keyring: Keyring.fromEnv(masterKey),
    onRejected: (subject, reason) => rejected.push({ subject, reason }),
  });
  return { bus, rejected };
}

/** Subscribes on the raw bus and keeps what crosses the wire. */
function tap(inner: Bus, subject: string): unknown[] {
  const wire: unknown[] = [];
  inner.subscribe(subject, (message) => {
    wire.push(message);
    return undefined;
  });
  return wire;
}

describe("authenticated bus (in-process)", () => {
  it("delivers a sealed message without its auth and seals the reply to it", async () => {
    const inner = new LocalBus();
    const sender = authenticated(inner);
    const receiver = authenticated(inner);
    const got: unknown[] = [];
    receiver.bus.subscribe("signet.test", (payload) => {
      got.push(payload);
      return { evicted: true, pod: "p1" };
    });
    const wire = tap(inner, "signet.test");
    const replies = await sender.bus.gather("signet.test", { key: "ck_1", at: "now" }, { windowMs: 200 });
    expect(got).toEqual([{ key: "ck_1", at: "now" }]);
    expect(replies).toEqual([{ evicted: true, pod: "p1" }]);
    expect((wire[0] as { auth: { mac: string } }).auth.mac).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sender.rejected).toEqual([]);
    expect(receiver.rejected).toEqual([]);
  });

  it("drops unsigned, forged, tampered, foreign-key and misdirected messages", async () => {
    const inner = new LocalBus();
    const receiver = authenticated(inner);
    const acted: unknown[] = [];
    receiver.bus.subscribe("signet.consumer.revoked", (p) => void acted.push(p));
    receiver.bus.subscribe("signet.user.disabled", (p) => void acted.push(p));

    // capture one genuine message to tamper with
    const wire = tap(inner, "signet.consumer.revoked");
    await authenticated(inner).bus.publish("signet.consumer.revoked", { key: "ck_real" });
    expect(acted).toEqual([{ key: "ck_real" }]);
    const genuine = wire[0] as Record<string, unknown> & { auth: Record<string, unknown> };

    await inner.publish("signet.consumer.revoked", { key: "ck_x" }); // no auth at all
    await inner.publish("signet.consumer.revoked", {
      key: "ck_x",
      auth: { kid: "zz", id: "1", ts: 1, mac: "x" },
    });
    await inner.publish("signet.consumer.revoked", { ...genuine, key: "ck_other" }); // tampered field
    await inner.publish("signet.consumer.revoked", {
      ...genuine,
      auth: { ...genuine.auth, mac: "A".repeat(43) },
    });
    await inner.publish("signet.user.disabled", genuine); // sealed for another subject
    await authenticated(inner, KEY_B).bus.publish("signet.consumer.revoked", { key: "ck_x" }); // other master key
    await inner.publish("signet.consumer.revoked", "not an object");

    expect(acted).toEqual([{ key: "ck_real" }]);
    expect(receiver.rejected.map((r) => r.reason)).toEqual([
      "malformed",
      "unknown_key",
      "bad_mac",
      "bad_mac",
      "bad_mac",
      "unknown_key",
      "malformed",
    ]);
  });

  it("acts on a replayed message once", async () => {
    const inner = new LocalBus();
    const receiver = authenticated(inner);
    const acted: unknown[] = [];
    receiver.bus.subscribe("signet.pod.goodbye", (p) => void acted.push(p));
    const wire = tap(inner, "signet.pod.goodbye");
    await authenticated(inner).bus.publish("signet.pod.goodbye", { pod: "p1" });
    await inner.publish("signet.pod.goodbye", wire[0]);
    await inner.publish("signet.pod.goodbye", wire[0]);
    expect(acted).toEqual([{ pod: "p1" }]);
    expect(receiver.rejected.map((r) => r.reason)).toEqual(["replayed", "replayed"]);
  });

  it("refuses a stale message", async () => {
    const inner = new LocalBus();
    const receiver = new AuthenticatedBus(inner, { keyring: Keyring.fromEnv(KEY_A), maxAgeMs: 1 });
    const acted: unknown[] = [];
    receiver.subscribe("signet.pod.heartbeat", (p) => void acted.push(p));
    const wire = tap(inner, "signet.pod.heartbeat");
    await authenticated(inner).bus.publish("signet.pod.heartbeat", { pod: "p1" });
    acted.length = 0; // the fresh delivery may or may not be within 1 ms
    await sleep(5);
    const old = wire[0] as { auth: { id: string } };
    await inner.publish("signet.pod.heartbeat", { ...old, auth: { ...old.auth, id: "fresh-id" } });
    expect(acted).toEqual([]);
  });

  it("counts only replies bound to this very event: an earlier confirmation replayed is not counted", async () => {
    // what crosses the wire back to the registry, as an attacker on the bus would record it
    const recorded: unknown[] = [];
    const inner = new (class extends LocalBus {
      override gather(subject: string, payload: unknown, options: GatherOptions) {
        return super.gather(subject, payload, {
          ...options,
          until: (reply) => (recorded.push(reply), options.until?.(reply) ?? false),
        });
      }
    })();
    const registry = authenticated(inner);
    const pod = authenticated(inner);
    pod.bus.subscribe("signet.consumer.revoked", () => ({ pod: "real", evicted: true }));
    expect(
      await registry.bus.gather("signet.consumer.revoked", { key: "ck_1" }, { windowMs: 100 }),
    ).toHaveLength(1);
    const earlier = recorded[0];

    inner.subscribe("signet.consumer.revoked", () => earlier); // the attacker answers with it
    const replies = await registry.bus.gather("signet.consumer.revoked", { key: "ck_2" }, { windowMs: 100 });
    expect(replies).toEqual([{ pod: "real", evicted: true }]);
    expect(registry.rejected.map((r) => r.reason)).toEqual(["unbound"]);
  });

  it("verifies a message sealed under a newer master key by a pod holding both keys (rotation)", async () => {
    const inner = new LocalBus();
    const sender = authenticated(inner, `${KEY_B},${KEY_A}`);
    const receiver = authenticated(inner, `${KEY_A},${KEY_B}`);
    const acted: unknown[] = [];
    receiver.bus.subscribe("signet.consumer.rotated", (p) => void acted.push(p));
    await sender.bus.publish("signet.consumer.rotated", { key: "ck_1" });
    expect(acted).toEqual([{ key: "ck_1" }]);
  });
});

describe("authenticated bus over NATS", () => {
  const buses: NatsBus[] = [];
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
  });

  it("a forged request gets no reply and a sealed one gets a bound reply", async () => {
    const connect = async () => {
      const bus = await NatsBus.connect({ servers: testNatsUrl(), name: "bus-auth-test" });
      buses.push(bus);
      return bus;
    };
    const [rawPod, rawRegistry, rawAttacker] = [await connect(), await connect(), await connect()];
    const subject = `signet.test.${Math.random().toString(36).slice(2)}`;
    const pod = authenticated(rawPod);
    const acted: unknown[] = [];
    pod.bus.subscribe(subject, (p) => {
      acted.push(p);
      return { pod: "p1", evicted: true };
    });
    await rawPod.publish(`${subject}.flush`, {}); // the subscription is registered

    const forged = await rawAttacker.gather(subject, { key: "ck_1" }, { windowMs: 200 });
    expect(forged).toEqual([]);
    expect(acted).toEqual([]);
    expect(pod.rejected.map((r) => r.reason)).toEqual(["malformed"]);

    const registry = authenticated(rawRegistry);
    const replies = await registry.bus.gather(subject, { key: "ck_1" }, { windowMs: 1_000, expected: 1 });
    expect(replies).toEqual([{ pod: "p1", evicted: true }]);
    expect(acted).toEqual([{ key: "ck_1" }]);
  });
});
