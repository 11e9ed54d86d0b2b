// `npm run bench`: every benchmark, one table on stdout, the figures in
// bench/results/latest.json. Against 127.0.0.1 only; bounded (about 3 minutes in all).
// Asserts nothing about speed: it reports where the figures land against the targets.
//   node --conditions=@signet/source --import tsx bench/run.ts
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "@signet/test-support/processes";
import { run as runDataMe } from "./data-me.js";
import { run as runHttp } from "./http.js";
import { run as runHomePage } from "./home-page.js";
import { run as runBusMac } from "./bus-mac.js";
import { run as runCapacity } from "./capacity.js";
import { run as runOAuth } from "./oauth-verify.js";
import { run as runRevocation } from "./revocation.js";
import { loaderBaseline, run as runServices } from "./services.js";
import { describeMachine, type LoadFigure } from "./support.js";

interface Row {
  benchmark: string;
  "req/s": string;
  "p50 ms": string;
  "p99 ms": string;
  "max ms": string;
  note: string;
}

const num = (x: number | undefined, digits = 0) =>
  x === undefined || Number.isNaN(x) ? "" : x.toFixed(digits);
const row = (benchmark: string, fields: Partial<Omit<Row, "benchmark">>): Row => ({
  benchmark,
  "req/s": "",
  "p50 ms": "",
  "p99 ms": "",
  "max ms": "",
  note: "",
  ...fields,
});

const machine = await describeMachine();
const startedAt = new Date().toISOString();
const t0 = performance.now();
const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  process.stderr.write(`bench: ${name}…`);
  const result = await fn();
  process.stderr.write(` ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return result;
};

const oauth = await step("oauth sign/verify micro-benchmark", () => runOAuth({ iterations: 20_000 }));
const busMac = await step("bus MAC micro-benchmark (bench/bus-mac.ts)", () =>
  runBusMac({ messages: 20_000 }),
);
const http = await step("data HTTP (signed / unsigned / JWT, notes, login)", () => runHttp());
const dataMe = await step("nonce store share (bench/data-me.ts, in-process)", () =>
  runDataMe({ durationSec: 3 }),
);
const capacity = await step(
  "capacity model: nonce claims at saturation, three data pods (bench/capacity.ts)",
  () => runCapacity(),
);
const revocation = await step("revocation, three pods (bench/revocation.ts)", () =>
  runRevocation({ revocations: 100 }),
);
const homePage = await step("home page, 5,000 notes (bench/home-page.ts)", () => runHomePage());
const tsxServices = await step("services under tsx (npm run start:*): start-up and RSS", () => runServices());
await step("npm run build (the compiled services the image runs)", async () => {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
});
const compiledServices = await step(
  "compiled services (node services/*/dist/server.js): start-up and RSS",
  () => runServices({ variant: "compiled" }),
);
const services = [...tsxServices, ...compiledServices];
const baseline = await step("idle node, bare and under tsx", () => loaderBaseline());

const fig = (f: LoadFigure) => ({
  "req/s": num(f.requestsPerSec),
  "p50 ms": num(f.p50Ms, 1),
  "p99 ms": num(f.p99Ms, 1),
  note:
    `${f.requests} requests${f.non2xx || f.errors ? `, ${f.non2xx} non-2xx, ${f.errors} errors` : ""}` +
    (f.cpuUsPerRequest
      ? `; CPU µs/request: server ${num(f.cpuUsPerRequest.server)}, load generator ${num(f.cpuUsPerRequest.loadGenerator)}, PostgreSQL ${num(f.cpuUsPerRequest.postgres)}`
      : ""),
});
const serverCpu = (f: LoadFigure) => f.cpuUsPerRequest?.server ?? Number.NaN;

const rows: Row[] = [];
const { me } = http;
const postgresCpu = (f: LoadFigure) => f.cpuUsPerRequest?.postgres ?? Number.NaN;
const serverRatio = serverCpu(me.jwt) / serverCpu(me.signed);
rows.push(
  row("GET /me signed (HMAC-SHA256, PG nonces: partitioned, unlogged, plain-insert claim)", fig(me.signed)),
);
rows.push(
  row("  its claims (the pod's signet_nonce_* metrics)", {
    note: `${me.signedClaims.calls} claim calls, mean batch ${num(me.signedClaims.meanBatch, 1)} nonces, ${num(me.signedClaims.meanClaimMs, 2)} ms each; PostgreSQL ${num(me.signedClaims.postgresUsPerCall)} µs CPU per call (÷ batch = per request)`,
  }),
);
rows.push(row("  A/B: the nonce store of two releases ago (nonce_keys)", fig(me.legacy)));
rows.push(row("  A/B: this release's store on logged partitions", fig(me.logged)));
rows.push(row("GET /me unsigned (same handler)", fig(me.unsigned)));
rows.push(row("GET /me @fastify/jwt HS256 (same handler)", fig(me.jwt)));
rows.push(
  row("  ratios", {
    note: `signed/JWT ${http.ratios.signedToJwt.toFixed(2)} (target ≥ 0.6), signed/unsigned ${http.ratios.signedToUnsigned.toFixed(2)}`,
  }),
);
rows.push(
  row("  server CPU per request, as capacity ratios", {
    note: `signed/JWT ${num(serverRatio, 2)} (target ≥ 0.8), signed/unsigned ${num(serverCpu(me.unsigned) / serverCpu(me.signed), 2)} (requests a data pod's core can serve, PostgreSQL and client elsewhere)`,
  }),
);
for (const s of capacity.saturation)
  rows.push(
    row(`nonce claims at saturation: ${s.store}, batch ${s.batch}`, {
      "req/s": num(s.rowsPerSec),
      note: `PostgreSQL ${num(s.postgresUsPerRow, 1)} µs CPU per nonce row → ${num(s.rowsPerPostgresCoreSec)} rows/s per PostgreSQL core (${s.clients} connections, no HTTP)`,
    }),
  );
rows.push(
  row(`${capacity.pods.pods} data pods, signed GET /me at all at once`, {
    "req/s": num(capacity.pods.requestsPerSec),
    note: `CPU µs/request: pods ${num(capacity.pods.cpuUsPerRequest.pods, 1)}, PostgreSQL ${num(capacity.pods.cpuUsPerRequest.postgres, 1)}, load generator ${num(capacity.pods.cpuUsPerRequest.loadGenerator, 1)} → ${num(capacity.pods.signedPerPodCoreSec)} signed req/s per pod core, ${num(capacity.pods.signedPerPostgresCoreSec)} per PostgreSQL core: one PostgreSQL core per ${num(capacity.podCoresPerPostgresCore, 1)} data-pod cores`,
  }),
);
for (const [label, f] of [
  ["nonce store A/B (data-me.ts, in-process): this release's claim", dataMe.storeAB.thisRelease],
  ["  the last release's claim (signet_nonce_claim), same run", dataMe.storeAB.lastRelease],
] as const)
  rows.push(row(label, { ...fig(f), note: `${dataMe.storeAB.rounds} interleaved rounds; ${fig(f).note}` }));
rows.push(
  row("  nonce store share (data-me.ts)", {
    note: `${
      dataMe.nonceStoreShare >= 0
        ? `${(dataMe.nonceStoreShare * 100).toFixed(0)} % of a signed request's time`
        : `below this run's noise (the no-op store's run was ${(-dataMe.nonceStoreShare * 100).toFixed(0)} % slower)`
    }; mean batch ${dataMe.nonceBatches.meanBatch.toFixed(1)}`,
  }),
);
rows.push(row("POST /notes signed, 1 KiB JSON + body hash", fig(http.notes)));
rows.push(
  row("POST /authenticate (argon2id 19 MiB, t=2)", {
    ...fig(http.login),
    note: `${http.login.connections} connections; ${fig(http.login).note}`,
  }),
);
for (const f of [homePage.before, homePage.after])
  rows.push(
    row(f.name, {
      ...fig(f),
      note: `${f.notesShown} of ${homePage.notes} notes, ${Math.round(f.pageBytes / 1024)} KiB; ${fig(f).note}`,
    }),
  );
for (const r of oauth)
  rows.push(
    row(r.name, { note: `${r.usPerOp.toFixed(1)} µs/op in-process (${Math.round(r.opsPerSec)} ops/s)` }),
  );
for (const r of busMac)
  rows.push(row(r.name, { note: `${r.usPerMessage.toFixed(1)} µs per event and its reply, in-process` }));
rows.push(
  row("revocation: commit → last of 3 pods evicted", {
    "p50 ms": num(revocation.propagationMs.p50, 2),
    "p99 ms": num(revocation.propagationMs.p99, 2),
    "max ms": num(revocation.propagationMs.max, 2),
    note: `${revocation.revocations} revocations; target p99 < 10 ms`,
  }),
);
rows.push(
  row("revocation: revoke call (HTTP, client side)", {
    "p50 ms": num(revocation.revokeCallMs.p50, 2),
    "p99 ms": num(revocation.revokeCallMs.p99, 2),
    "max ms": num(revocation.revokeCallMs.max, 2),
    note: `confirmed_pods ${revocation.confirmedPods.min}–${revocation.confirmedPods.max}`,
  }),
);
for (const s of services) {
  rows.push(
    row(`${s.service} (${s.variant}): start-up to /readyz 200`, {
      "p50 ms": num(s.readyMs.median),
      "max ms": num(s.readyMs.max),
      note: `${s.readyMs.samples.length} starts; target < 2000 ms`,
    }),
  );
  rows.push(
    row(`${s.service} (${s.variant}): RSS idle / under load`, {
      "req/s": num(s.load.requestsPerSec),
      note: `${s.idleRssMb} MB / ${s.loadRssMb} MB (target < 120 MB under load)`,
    }),
  );
}

rows.push(
  row("  context: an empty node process", {
    note: `${baseline.bareNodeMb} MB bare, ${baseline.tsxLoaderMb} MB under --import tsx (as the start:* scripts run)`,
  }),
);

const targets = {
  postgresCpuPerSignedAtMost10us: { met: postgresCpu(me.signed) <= 10, value: postgresCpu(me.signed) },
  serverCpuPerSignedAtMost40us: { met: serverCpu(me.signed) <= 40, value: serverCpu(me.signed) },
  signedToJwtByServerCpuAtLeast08: { met: serverRatio >= 0.8, value: serverRatio },
  signedToJwtThroughputAtLeast06: { met: http.ratios.signedToJwt >= 0.6, value: http.ratios.signedToJwt },
  revocationP99Under10ms: { met: revocation.propagationMs.p99 < 10, value: revocation.propagationMs.p99 },
  rssUnder120MbUnderLoad: Object.fromEntries(
    services.map((s) => [`${s.service} (${s.variant})`, { met: s.loadRssMb < 120, value: s.loadRssMb }]),
  ),
  readyUnder2s: Object.fromEntries(
    services.map((s) => [`${s.service} (${s.variant})`, { met: s.readyMs.max < 2000, value: s.readyMs.max }]),
  ),
};

const elapsedSec = Math.round((performance.now() - t0) / 1000);
console.log(
  `Signet benchmarks — ${startedAt}, ${elapsedSec} s; ${machine.cpuModel}, ${machine.nproc} cores (nproc), ${machine.totalMemoryMb} MB, node ${machine.node}; load average at start ${machine.loadAverageAtStart.join(" ")}`,
);
console.log(
  `HTTP: autocannon in this process, server in its own; ${me.connections} connections, ${me.rounds} interleaved rounds × ${me.durationSec} s per GET /me variant; PostgreSQL and NATS on the same machine.`,
);
console.table(rows);
const miss = (ok: boolean) => (ok ? "met" : "MISSED");
console.log(
  `targets: PostgreSQL CPU per signed request ≤ 10 µs ${miss(targets.postgresCpuPerSignedAtMost10us.met)}; ` +
    `data pod CPU per signed GET /me ≤ 40 µs ${miss(targets.serverCpuPerSignedAtMost40us.met)}; ` +
    `signed ÷ JWT by server CPU ≥ 0.8 ${miss(targets.signedToJwtByServerCpuAtLeast08.met)}; ` +
    `signed ÷ JWT throughput ≥ 0.6 ${miss(targets.signedToJwtThroughputAtLeast06.met)}; ` +
    `revocation p99 < 10 ms ${miss(targets.revocationP99Under10ms.met)}; ` +
    `RSS < 120 MB ${services.map((s) => `${s.service} (${s.variant}) ${miss(s.loadRssMb < 120)}`).join(", ")}; ` +
    `ready < 2 s ${services.map((s) => `${s.service} (${s.variant}) ${miss(s.readyMs.max < 2000)}`).join(", ")}`,
);

const out = path.join(ROOT, "bench", "results");
mkdirSync(out, { recursive: true });
writeFileSync(
  path.join(out, "latest.json"),
  `${JSON.stringify({ startedAt, elapsedSec, machine, targets, oauth, busMac, http, homePage, dataMe, capacity, revocation, services, loaderBaseline: baseline, table: rows }, null, 2)}\n`,
);
console.log("figures: bench/results/latest.json");
