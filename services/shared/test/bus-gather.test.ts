// bus.gather's `until`: the gathering ends at the reply that satisfies it, on both buses.
import { describe, expect, it } from "vitest";
import { LocalBus, NatsBus } from "@signet/shared/bus";
import { randomToken } from "@signet/shared/crypto";
import { testNatsUrl } from "@signet/test-support/nats";
import { sleep } from "@signet/test-support/wait";

/** Races a gather against a timer at half its window. */
async function raceHalfWindow<T>(gather: Promise<T>, windowMs: number) {
  return Promise.race([
    gather.then((replies) => ({ replies })),
    sleep(windowMs / 2).then(() => "half the window" as const),
  ]);
}

describe("gather until", () => {
  it("in process: stops at the reply `until` accepts, without waiting for slower handlers", async () => {
    const bus = new LocalBus();
    bus.subscribe("s", () => ({ pod: "a" }));
    bus.subscribe("s", async () => (await sleep(20), { pod: "b" }));
    bus.subscribe("s", async () => (await sleep(10_000), { pod: "slow" }));
    const seen: unknown[] = [];
    const outcome = await raceHalfWindow(
      bus.gather("s", {}, { windowMs: 5_000, until: (reply) => (seen.push(reply), seen.length === 2) }),
      5_000,
    );
    expect(outcome).toEqual({ replies: [{ pod: "a" }, { pod: "b" }] });
  });

  it("in process: a handler that throws is no reply; the window still bounds the rest", async () => {
    const bus = new LocalBus();
    bus.subscribe("s", () => {
      throw new Error("boom");
    });
    bus.subscribe("s", async () => (await sleep(10_000), "late"));
    bus.subscribe("s", () => "ok");
    expect(await bus.gather("s", {}, { windowMs: 100 })).toEqual(["ok"]);
  });

  it("over NATS: stops at the reply `until` accepts", async () => {
    const a = await NatsBus.connect({ servers: testNatsUrl(), name: "t-until-a" });
    const b = await NatsBus.connect({ servers: testNatsUrl(), name: "t-until-b" });
    try {
      const subject = `test.${randomToken(4)}`;
      b.subscribe(subject, () => ({ pod: "one" }));
      b.subscribe(subject, () => ({ pod: "two" }));
      await b.nc.flush();
      const outcome = await raceHalfWindow(
        a.gather(
          subject,
          {},
          { windowMs: 5_000, until: (reply) => (reply as { pod: string }).pod === "two" },
        ),
        5_000,
      );
      expect(outcome).not.toBe("half the window");
      expect((outcome as { replies: unknown[] }).replies).toContainEqual({ pod: "two" });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
