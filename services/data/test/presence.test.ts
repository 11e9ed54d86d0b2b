// A data pod's presence announcements (signet.pod.heartbeat / .goodbye, answers to
// signet.pod.discover), seen from the bus.
import { expect, it } from "vitest";
import { LocalBus, SUBJECTS } from "@signet/shared/bus";
import { MASTER_KEY, sealed } from "@signet/test-support/keys";
import { type PodHeartbeatEvent } from "@signet/shared/events";
import { useTestDatabase } from "@signet/test-support/db";
import { startDataPod } from "@signet/test-support/pods";
import { sleep } from "@signet/test-support/wait";
import { loadDataConfig } from "../src/config.js";

const tdb = useTestDatabase();

it("heartbeats at start, every interval and when asked; says goodbye on close and then stays quiet", async () => {
  const raw = new LocalBus();
  const bus = sealed(raw); // the test listens and asks as the registry does, with the master key
  const seen: { subject: string; payload: Record<string, unknown>; at: number }[] = [];
  for (const subject of [SUBJECTS.podHeartbeat, SUBJECTS.podGoodbye])
    bus.subscribe(
      subject,
      (payload) =>
        void seen.push({ subject, payload: payload as Record<string, unknown>, at: performance.now() }),
    );
  const beats = () => seen.filter((s) => s.subject === SUBJECTS.podHeartbeat);

  const pod = await startDataPod({
    id: "pod-x",
    db: tdb.db,
    bus: raw,
    listen: false,
    config: { heartbeatIntervalMs: 100 },
  });
  try {
    // The first one goes out while the app is still being built (it listens for the
    // revocation events by then); how many more follow before ready depends on build time.
    expect(beats().length).toBeGreaterThanOrEqual(1);
    const first = beats()[0]!.payload as unknown as PodHeartbeatEvent;
    expect(first).toEqual({ pod: "pod-x", at: expect.any(String), interval_ms: 100 });
    expect(Number.isNaN(Date.parse(first.at))).toBe(false);

    const atReady = beats().length;
    await expect
      .poll(() => beats().length, { timeout: 2_000, interval: 10 })
      .toBeGreaterThanOrEqual(atReady + 3);

    const before = beats().length;
    await bus.publish(SUBJECTS.podDiscover, { at: new Date().toISOString() });
    await expect.poll(() => beats().length, { timeout: 50, interval: 1 }).toBeGreaterThan(before);
  } finally {
    await pod.close();
  }
  expect(seen.at(-1)).toMatchObject({
    subject: SUBJECTS.podGoodbye,
    payload: { pod: "pod-x", at: expect.any(String) },
  });
  const after = seen.length;
  await sleep(300);
  await bus.publish(SUBJECTS.podDiscover, { at: new Date().toISOString() });
  expect(seen).toHaveLength(after);
});

it("SIGNET_HEARTBEAT_INTERVAL_MS sets the interval (default 5 s)", () => {
  const env = { DATABASE_URL: tdb.url, NATS_URL: "nats://127.0.0.1:4222", SIGNET_MASTER_KEY: MASTER_KEY };
  expect(loadDataConfig(env).heartbeatIntervalMs).toBe(5_000);
  expect(loadDataConfig({ ...env, SIGNET_HEARTBEAT_INTERVAL_MS: "250" }).heartbeatIntervalMs).toBe(250);
  expect(() => loadDataConfig({ ...env, SIGNET_HEARTBEAT_INTERVAL_MS: "5" })).toThrow(
    /SIGNET_HEARTBEAT_INTERVAL_MS/,
  );
});
