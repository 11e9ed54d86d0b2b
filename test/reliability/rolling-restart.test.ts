// Rolling restart of three data instances under load, each run the production way
// (`npm run start:data`'s command line, configured by environment, SIGTERM to stop).
// A round-robin client plays the load balancer: it polls every instance's /readyz and sends
// only to instances that answered 200 last time; a connection that is refused (nothing
// listening, so the request never left the client) is routed to the next instance, as any
// load balancer does. Every other error and every non-2xx answer is a failed request, and
// there must be none. Every note the client was told was created must be in the database.
// The instances run with SIGNET_DRAIN_DELAY_MS=2000 (readiness false that long before the
// listener closes): with no drain delay this test fails with "other side closed" on a request
// sent over a keep-alive connection the stopping server closed, as in a real cluster.
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { usePrivateNats } from "@signet/test-support/hooks";
import { MASTER_KEY } from "@signet/test-support/keys";
import { freePort, waitForPort } from "@signet/test-support/net";
import { npmScriptArgv, ROOT, stopChild } from "@signet/test-support/processes";
import { seedCredentials, type SeededCredentials } from "@signet/test-support/seed";
import { signedFetch } from "@signet/test-support/signed";
import { sleep, waitFor } from "@signet/test-support/wait";
import { LONG } from "./support.js";

const database = useTestDatabase();
const nats = usePrivateNats();
let creds: SeededCredentials;

interface Instance {
  name: string;
  port: number;
  child: ChildProcess | undefined;
  ready: boolean;
  served: number;
}
const instances: Instance[] = [];

function spawnInstance(instance: Instance): void {
  const [, ...args] = npmScriptArgv("start:data");
  instance.child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(instance.port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      DATABASE_URL: database.url,
      NATS_URL: nats.url,
      SIGNET_MASTER_KEY: MASTER_KEY,
      SIGNET_POD_ID: instance.name,
      // readiness false for 2 s before the listener closes (the frontend's fixed value):
      // ample for a balancer polling every 50 ms, even on a busy machine
      SIGNET_DRAIN_DELAY_MS: "2000",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

const readyz = (instance: Instance, timeoutMs?: number) =>
  fetch(
    `http://127.0.0.1:${instance.port}/readyz`,
    timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {},
  ).then(
    (r) => r.status === 200,
    () => false,
  );

async function waitReady(instance: Instance, timeoutMs = 30_000): Promise<void> {
  await waitForPort(instance.port, timeoutMs);
  await waitFor(`${instance.name} to be ready`, () => readyz(instance), timeoutMs, 50);
}

beforeAll(async () => {
  creds = await seedCredentials(database.db);
  for (const name of ["data-a", "data-b", "data-c"]) {
    const instance: Instance = { name, port: await freePort(), child: undefined, ready: false, served: 0 };
    instances.push(instance);
    spawnInstance(instance);
  }
  await Promise.all(instances.map((i) => waitReady(i)));
}, 90_000);

afterAll(async () => {
  await Promise.all(instances.map((i) => (i.child ? stopChild(i.child) : undefined)));
});

const isRefused = (error: unknown): boolean => {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code === "ECONNREFUSED";
};

it(
  "SIGTERM one instance at a time and bring it back, under load: no failed request",
  async () => {
    let stop = false;
    // the load balancer's health checks: each instance on its own loop, so one slow answer
    // never leaves another instance's state stale
    const poller = Promise.all(
      instances.map(async (i) => {
        while (!stop) {
          i.ready = await readyz(i, 500);
          await sleep(50);
        }
      }),
    );

    const failures: string[] = [];
    let ok = 0;
    let rerouted = 0;
    const created = new Set<string>();
    let next = 0;
    const client = async (worker: number) => {
      for (let n = 0; !stop; n++) {
        const candidates = instances.filter((i) => i.ready);
        if (candidates.length === 0) {
          await sleep(10);
          continue;
        }
        const instance = candidates[next++ % candidates.length]!;
        const post = n % 3 === 0;
        const url = `http://127.0.0.1:${instance.port}${post ? "/notes" : "/me"}`;
        try {
          const answer = await signedFetch(`http://127.0.0.1:${instance.port}`, {
            ...(post
              ? { method: "POST", url: "/notes", json: { title: `w${worker}-${n}`, body: "rolling" } }
              : { method: "GET", url: "/me" }),
            consumer: creds.consumer,
            token: creds.token,
          });
          if (answer.status >= 200 && answer.status < 300) {
            ok++;
            instance.served++;
            if (post) created.add((JSON.parse(answer.body) as { id: string }).id);
          } else {
            failures.push(`${instance.name} ${url} → ${answer.status} ${answer.body.slice(0, 120)}`);
          }
        } catch (error) {
          if (isRefused(error)) rerouted++;
          else
            failures.push(
              `${instance.name} ${url} → ${String(error)} ${String((error as { cause?: unknown }).cause)}`,
            );
        }
      }
    };
    const clients = Array.from({ length: 4 }, (_, w) => client(w));

    const cycles = LONG ? 3 : 1;
    const exitCodes: (number | null)[] = [];
    const servedAfterRestart: number[] = [];
    await sleep(500);
    for (let cycle = 0; cycle < cycles; cycle++) {
      for (const instance of instances) {
        exitCodes.push(await stopChild(instance.child!, "SIGTERM", 30_000));
        await sleep(300); // down for a moment, the others carry the load
        spawnInstance(instance);
        await waitReady(instance);
        const before = instance.served;
        const deadline = Date.now() + 10_000;
        while (instance.served === before && Date.now() < deadline) await sleep(20);
        servedAfterRestart.push(instance.served - before);
      }
    }
    await sleep(500);
    stop = true;
    await Promise.all(clients);
    await poller;

    expect(failures).toEqual([]);
    expect(exitCodes.every((c) => c === 0)).toBe(true); // graceful: each exited on its own, cleanly
    expect(servedAfterRestart.every((n) => n > 0)).toBe(true); // each came back into rotation
    expect(ok).toBeGreaterThan(200);
    // every note acknowledged with a 201 is in PostgreSQL
    const rows = await database.db
      .selectFrom("notes")
      .select("id")
      .where("id", "in", [...created])
      .execute();
    expect(rows.length).toBe(created.size);
    console.log(
      `rolling restart: ${ok} requests answered 2xx, ${created.size} notes, ${rerouted} connections refused and routed elsewhere, 0 failed`,
    );
  },
  LONG ? 600_000 : 150_000,
);
