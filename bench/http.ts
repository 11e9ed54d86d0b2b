// HTTP benchmark of the data service, server in its own process (bench/http-server.ts),
// autocannon here, over 127.0.0.1:
//  1. signed GET /me (HMAC-SHA256, PostgreSQL nonce store, consumer and token cached) vs the
//     same handler unsigned vs the same handler behind an @fastify/jwt bearer check
//     (HS256) — same server process, interleaved rounds so a noisy neighbour hits all of them;
//     in the same rounds, the nonce store A/B: signed GET /me on a pod with the previous
//     release's store ("legacy": nonce_keys, a Kysely-compiled insert per batch) and on one with
//     this release's store on logged partitions ("logged"), each pod on a database of its own;
//  2. signed POST /notes with a 1 KiB JSON body (oauth_body_hash);
//  3. POST /authenticate with the production argon2id parameters (login limits raised).
// Run alone: node --conditions=@signet/source --import tsx bench/http.ts
import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import type autocannon from "autocannon";
import { sql } from "kysely";
import { createTestDatabase } from "@signet/test-support/db";
import { MASTER_KEY } from "@signet/test-support/keys";
import { ROOT, stopChild } from "@signet/test-support/processes";
import { seedCredentials } from "@signet/test-support/seed";
import {
  cannon,
  mergeRounds,
  postgresBackendPids,
  scrapeHistogram,
  signedRequests,
  type CpuAccounting,
  type LoadFigure,
} from "./support.js";

export interface HttpBenchResult {
  me: {
    signed: LoadFigure;
    unsigned: LoadFigure;
    jwt: LoadFigure;
    /** The nonce store A/B: the previous release's store, this release's on logged partitions. */
    legacy: LoadFigure;
    logged: LoadFigure;
    /**
     * The signed route's claims, from the pod's own metrics: nonces per claim call and the
     * call's duration (means over the signed rounds), and PostgreSQL's CPU per call — the
     * per-request figure is this divided by the batch.
     */
    signedClaims: { calls: number; meanBatch: number; meanClaimMs: number; postgresUsPerCall: number };
    rounds: number;
    durationSec: number;
    connections: number;
  };
  /** signed req/s ÷ JWT req/s, signed ÷ unsigned */
  ratios: { signedToJwt: number; signedToUnsigned: number };
  notes: LoadFigure & { bodyBytes: number; connections: number; durationSec: number };
  login: LoadFigure & { connections: number; durationSec: number; argon2: string };
}

export function jwtHs256(secret: string, claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = `${enc({ alg: "HS256", typ: "JWT" })}.${enc(claims)}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

/** A JSON document of exactly `size` bytes. */
function noteBody(size: number): string {
  const empty = JSON.stringify({ title: "benchmark note", body: "" });
  const body = JSON.stringify({ title: "benchmark note", body: "x".repeat(size - empty.length) });
  if (Buffer.byteLength(body) !== size) throw new Error("note body size");
  return body;
}

export async function startServer(
  env: Record<string, string>,
): Promise<{ url: string; variants: Record<string, string>; pid: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ["--conditions=@signet/source", "--import", "tsx", "bench/http-server.ts"],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const { url, variants } = await new Promise<{ url: string; variants: Record<string, string> }>(
    (resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
      lines.once("line", (line) =>
        resolve(JSON.parse(line) as { url: string; variants: Record<string, string> }),
      );
    },
  );
  return { url, variants, pid: child.pid!, stop: async () => void (await stopChild(child)) };
}

export async function run(
  options: { durationSec?: number; rounds?: number; connections?: number } = {},
): Promise<HttpBenchResult> {
  const durationSec = options.durationSec ?? 4;
  const rounds = options.rounds ?? 2;
  const connections = options.connections ?? 20;
  const database = await createTestDatabase({ prefix: "signet_bench_http", db: { max: 2 } });
  const variantDatabases = {
    legacy: await createTestDatabase({ prefix: "signet_bench_legacy", db: { max: 2 } }),
    logged: await createTestDatabase({ prefix: "signet_bench_logged", db: { max: 2 } }),
  };
  // the previous release had no rolling-upgrade trigger on nonce_keys: measure it without
  await sql`drop trigger nonce_keys_legacy_claim on nonce_keys`.execute(variantDatabases.legacy.db);
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const { consumer, user, token } = await seedCredentials(database.db);
    const variantCredentials = {
      legacy: await seedCredentials(variantDatabases.legacy.db),
      logged: await seedCredentials(variantDatabases.logged.db),
    };
    const jwtSecret = randomBytes(32).toString("base64url");
    const jwt = jwtHs256(jwtSecret, {
      sub: user.id,
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 3600,
    });
    server = await startServer({
      BENCH_DATABASE_URL: database.url,
      SIGNET_MASTER_KEY: MASTER_KEY,
      BENCH_JWT_SECRET: jwtSecret,
      BENCH_USER: JSON.stringify({ id: user.id, username: user.username, display_name: user.display_name }),
      BENCH_VARIANT_DATABASES: JSON.stringify({
        legacy: variantDatabases.legacy.url,
        logged: variantDatabases.logged.url,
      }),
    });
    const base = server.url;
    // CPU per request of the server, this process (load generator) and the PostgreSQL backends
    // of the database the route's pod uses — only that one: the previous store's purge of
    // nonce_keys (a DELETE, then autovacuum) must not land in the figure of a route that
    // happens to run meanwhile
    const accountingFor = (name: string): CpuAccounting => ({
      serverPid: server!.pid,
      postgresPids: () =>
        postgresBackendPids(
          (name === "legacy" || name === "logged" ? variantDatabases[name] : database).name,
        ),
    });
    const accounting = accountingFor("signed");

    const signedMe = (duration: number): autocannon.Options => ({
      url: base,
      duration,
      connections,
      requests: signedRequests(base, { method: "GET", url: "/me", consumer, token }),
    });
    const variantMe =
      (name: "legacy" | "logged") =>
      (duration: number): autocannon.Options => {
        const url = server!.variants[name]!;
        const { consumer: c, token: t } = variantCredentials[name];
        return {
          url,
          duration,
          connections,
          requests: signedRequests(url, { method: "GET", url: "/me", consumer: c, token: t }),
        };
      };
    const legacyMe = variantMe("legacy");
    const loggedMe = variantMe("logged");
    const unsignedMe = (duration: number): autocannon.Options => ({
      url: `${base}/me-unsigned`,
      duration,
      connections,
    });
    const jwtMe = (duration: number): autocannon.Options => ({
      url: `${base}/me-jwt`,
      duration,
      connections,
      headers: { authorization: `Bearer ${jwt}` },
    });

    // warm-up: JIT, pool connections, caches
    await cannon("warm-up signed", signedMe(1));
    await cannon("warm-up unsigned", unsignedMe(1));
    await cannon("warm-up jwt", jwtMe(1));
    await cannon("warm-up legacy", legacyMe(1));
    await cannon("warm-up logged", loggedMe(1));

    const runs = {
      signed: signedMe,
      unsigned: unsignedMe,
      jwt: jwtMe,
      legacy: legacyMe,
      logged: loggedMe,
    };
    const figures = Object.fromEntries(Object.keys(runs).map((k) => [k, [] as LoadFigure[]])) as Record<
      keyof typeof runs,
      LoadFigure[]
    >;
    const names = Object.keys(runs) as (keyof typeof runs)[];
    // only the signed runs claim on this pod (legacy and logged are pods of their own)
    const claimMetrics = async () => ({
      batch: await scrapeHistogram(`${base}/metrics`, "signet_nonce_batch_size"),
      seconds: await scrapeHistogram(`${base}/metrics`, "signet_nonce_insert_seconds"),
    });
    const claimsBefore = await claimMetrics();
    for (let r = 0; r < rounds; r++) {
      // rotate the order each round so none always runs first
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + r) % names.length]!;
        figures[name].push(await cannon(name, runs[name](durationSec), accountingFor(name)));
      }
    }
    const claimsAfter = await claimMetrics();
    const signed = mergeRounds("signed GET /me (HMAC-SHA256, PostgreSQL nonces)", figures.signed);
    const claimCalls = claimsAfter.batch.count - claimsBefore.batch.count;
    const meanBatch = (claimsAfter.batch.sum - claimsBefore.batch.sum) / claimCalls;
    const signedClaims = {
      calls: claimCalls,
      meanBatch,
      meanClaimMs: ((claimsAfter.seconds.sum - claimsBefore.seconds.sum) / claimCalls) * 1000,
      postgresUsPerCall: (signed.cpuUsPerRequest?.postgres ?? Number.NaN) * meanBatch,
    };
    const unsigned = mergeRounds("same handler, unsigned", figures.unsigned);
    const jwtFigure = mergeRounds("same handler, @fastify/jwt bearer (HS256)", figures.jwt);
    const legacy = mergeRounds("signed GET /me, the previous release's nonce store", figures.legacy);
    const logged = mergeRounds("signed GET /me, this release's store on logged partitions", figures.logged);

    const body = noteBody(1024);
    const notesDuration = durationSec + 1;
    const notes = await cannon(
      "signed POST /notes, 1 KiB JSON (body hash)",
      {
        url: base,
        duration: notesDuration,
        connections,
        requests: signedRequests(base, {
          method: "POST",
          url: "/notes",
          consumer,
          token,
          body,
          contentType: "application/json",
        }),
      },
      accounting,
    );

    const loginConnections = 4;
    const login = await cannon(
      "POST /authenticate (argon2id m=19 MiB t=2 p=1)",
      {
        url: base,
        duration: notesDuration,
        connections: loginConnections,
        timeout: 30,
        requests: signedRequests(base, {
          method: "POST",
          url: "/authenticate",
          consumer,
          form: { username: user.username, password: user.password },
        }),
      },
      accounting,
    );

    return {
      me: {
        signed,
        unsigned,
        jwt: jwtFigure,
        legacy,
        logged,
        signedClaims,
        rounds,
        durationSec,
        connections,
      },
      ratios: {
        signedToJwt: signed.requestsPerSec / jwtFigure.requestsPerSec,
        signedToUnsigned: signed.requestsPerSec / unsigned.requestsPerSec,
      },
      notes: { ...notes, bodyBytes: 1024, connections, durationSec: notesDuration },
      login: {
        ...login,
        connections: loginConnections,
        durationSec: notesDuration,
        argon2: "argon2id m=19456 KiB, t=2, p=1",
      },
    };
  } finally {
    await server?.stop();
    await database.drop();
    for (const d of Object.values(variantDatabases)) await d.drop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  console.log(JSON.stringify(result, null, 2));
}
