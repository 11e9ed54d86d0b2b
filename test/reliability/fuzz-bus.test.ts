// The bus under fuzz (docs/design.md, "Authenticated bus"): thousands of forged, mutated,
// replayed and malformed messages on every subject a data pod and a registry act on, sent
// raw on the in-process bus both use — none acted on (no eviction, no pod known, no reply),
// every one counted, nothing thrown; genuine messages around them still work.
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LocalBus, SUBJECTS } from "@signet/shared/bus";
import { useTestDatabase } from "@signet/test-support/db";
import { sealed } from "@signet/test-support/keys";
import { metricValue } from "@signet/test-support/metrics";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { startRegistry } from "../../services/registry/test/helpers.js";
import { LONG } from "./support.js";

const RUNS = LONG ? 20_000 : 3_000;
const database = useTestDatabase();
const raw = new LocalBus(); // what an attacker on the bus can write to
let pod: DataPod;
let registry: FastifyInstance;
const genuine: { subject: string; message: Record<string, unknown> }[] = [];

const ACTED_ON = [
  SUBJECTS.consumerRevoked,
  SUBJECTS.consumerRotated,
  SUBJECTS.userDisabled,
  SUBJECTS.tokenRevoked,
  SUBJECTS.podHeartbeat,
  SUBJECTS.podGoodbye,
  SUBJECTS.podDiscover,
];

beforeAll(async () => {
  pod = await startDataPod({ id: "fuzz-pod", db: database.db, bus: raw, listen: false });
  registry = await startRegistry({ databaseUrl: database.url, natsUrl: "", db: database.db, bus: raw });
  // genuine sealed messages to mutate and replay, caught off the raw bus
  for (const subject of ACTED_ON) {
    const off = raw.subscribe(subject, (message) => {
      genuine.push({ subject, message: message as Record<string, unknown> });
      return undefined;
    });
    await sealed(raw).publish(subject, {
      key: "ck_x",
      user_id: "u",
      token: "t",
      pod: "fuzz-ghost",
      at: "now",
    });
    off();
  }
}, 60_000);
afterAll(async () => {
  await registry?.close();
  await pod?.close();
});

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const authLike = fc.record(
  {
    kid: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(undefined)),
    id: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(undefined)),
    re: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(undefined)),
    ts: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 }), fc.constant(Date.now())),
    mac: fc.oneof(fc.string({ maxLength: 50 }), fc.base64String({ maxLength: 50 })),
  },
  { requiredKeys: [] },
);

/** A message an attacker can produce: junk, a forged auth, or a genuine message altered or replayed. */
const attack = fc.oneof(
  jsonValue.map((v) => ({ kind: "junk", message: v as unknown, subject: undefined as string | undefined })),
  fc.record({ body: fc.dictionary(fc.string({ maxLength: 8 }), jsonValue), auth: authLike }).map((r) => ({
    kind: "forged",
    message: { ...r.body, auth: r.auth } as unknown,
    subject: undefined,
  })),
  fc
    .record({
      pick: fc.nat(),
      field: fc.constantFrom(
        "key",
        "pod",
        "user_id",
        "token",
        "at",
        "auth.mac",
        "auth.ts",
        "auth.id",
        "auth.kid",
      ),
      value: jsonValue,
    })
    .map(({ pick, field, value }) => {
      const original = genuine[pick % genuine.length]!;
      const message = structuredClone(original.message);
      if (field.startsWith("auth.")) (message.auth as Record<string, unknown>)[field.slice(5)] = value;
      else message[field] = value;
      return { kind: "altered", message: message as unknown, subject: original.subject };
    }),
  fc.record({ pick: fc.nat(), to: fc.constantFrom(...ACTED_ON) }).map(({ pick, to }) => {
    const original = genuine[pick % genuine.length]!;
    return { kind: "replayed", message: original.message as unknown, subject: to };
  }),
);

it(`${RUNS} forged, altered, misdirected and replayed bus messages: none acted on, none answered`, async () => {
  const evictionsBefore = pod.app.credentials.stats().evictions;
  const knownBefore = registry.podPresence.known();
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(attack, fc.constantFrom(...ACTED_ON), async (a, subject) => {
      const to = a.subject ?? subject;
      const replies = await raw.gather(to, a.message, { windowMs: 50 });
      sent++;
      // an altered message can only be unchanged by chance (a field set to its own value),
      // and a replay is refused as one: neither gets an answer
      expect(replies).toEqual([]);
    }),
    { numRuns: RUNS },
  );
  expect(pod.app.credentials.stats().evictions).toBe(evictionsBefore);
  expect(registry.podPresence.known()).toEqual(knownBefore);
  expect(registry.podPresence.known()).not.toContain("fuzz-ghost");
  // each message reaches the pod or the registry (or both): every one of them dropped is counted
  const dropped =
    (await metricValue(pod.app, "signet_bus_rejected_messages_total")) +
    (await metricValue(registry, "signet_bus_rejected_messages_total"));
  expect(dropped).toBeGreaterThanOrEqual(sent);

  // genuine traffic still works afterwards
  const confirmations = await sealed(raw).gather(
    SUBJECTS.consumerRevoked,
    { key: "ck_after", at: new Date().toISOString(), reason: "x", actor: "t" },
    { windowMs: 500, expected: 1 },
  );
  expect(confirmations).toMatchObject([{ pod: "fuzz-pod", evicted: true }]);
}, 300_000);
