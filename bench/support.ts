// Shared plumbing for the benchmarks (outside vitest, so no `inject`): throw-away
// PostgreSQL databases, a private nats-server, child processes with their RSS, autocannon
// wrapped in a promise, percentiles, and a description of the machine.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import pg from "pg";
import type { Kysely } from "kysely";
import { type Keyring } from "@signet/shared/crypto";
import { type Database, type User } from "@signet/shared/db";
import { signRequest, type ClientCredentials } from "@signet/shared/oauth";
import { createConsumer, createUser, issueToken } from "@signet/shared/repos";
import { freePort, waitForPort } from "@signet/test-support/net";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const BASE_DB = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

// ---- PostgreSQL -------------------------------------------------------------------------------

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: BASE_DB });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the shared server (migrate it yourself); drop() removes it. */
export async function createBenchDatabase(prefix = "signet_bench"): Promise<BenchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  await admin(`create database ${name}`);
  const url = new URL(BASE_DB);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

/** What a signed benchmark needs: a consumer, a user with a password, and a token (one hour). */
export interface BenchCredentials {
  consumer: ClientCredentials;
  user: User;
  password: string;
  token: ClientCredentials;
}

export async function seedBenchCredentials(
  db: Kysely<Database>,
  keyring: Keyring,
  name = "bench",
): Promise<BenchCredentials> {
  const { consumer: c, secret } = await createConsumer(db, keyring, { name });
  const password = "bench-password-123";
  const user = await createUser(db, { username: `${name}-user`, password, display_name: "Bench" });
  const issued = await issueToken(db, keyring, { userId: user.id, consumerKey: c.key, ttlSeconds: 3600 });
  return {
    consumer: { key: c.key, secret },
    user,
    password,
    token: { key: issued.token, secret: issued.secret },
  };
}

/** autocannon's request list for signed `GET /me`: a fresh nonce, timestamp and signature every time. */
export function signedGetMe(
  base: string,
  consumer: ClientCredentials,
  token: ClientCredentials,
): autocannon.Request[] {
  return [
    {
      method: "GET",
      path: "/me",
      setupRequest: (req: autocannon.Request) => ({
        ...req,
        headers: {
          ...req.headers,
          authorization: signRequest({ method: "GET", url: `${base}/me`, consumer, token }),
        },
      }),
    },
  ];
}

// ---- networking -------------------------------------------------------------------------------

// the test helpers' loopback utilities (plain node:net, no vitest)
export { freePort, waitForPort };

export { sleep } from "@signet/test-support/wait";

/** A nats-server of our own (JetStream on), so no foreign pod or bucket is involved. */
export async function startPrivateNats(): Promise<{ url: string; stop(): Promise<void> }> {
  if (!existsSync(NATS_SERVER_BIN)) throw new Error(`${NATS_SERVER_BIN} not found`);
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "signet-bench-nats-"));
  const child = spawn(NATS_SERVER_BIN, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], {
    stdio: "ignore",
  });
  await waitForPort(port);
  return {
    url: `nats://127.0.0.1:${port}`,
    stop: async () => {
      await stopChild(child, "SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- child processes ---------------------------------------------------------------------------

export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = "SIGTERM",
  timeoutMs = 10_000,
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}

/** The command line behind `npm run <script>` (simple scripts only: words separated by spaces). */
export function npmScriptArgv(script: string): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  const line = pkg.scripts[script];
  if (!line) throw new Error(`no npm script ${script}`);
  return line.trim().split(/\s+/);
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

// ---- load --------------------------------------------------------------------------------------

/** CPU time (user + system) per completed request, in microseconds, by who spent it. */
export interface CpuPerRequest {
  /** the server process */
  server: number;
  /** this process: autocannon and, for signed routes, the client's signing */
  loadGenerator: number;
  /** the PostgreSQL backends connected to the benchmark's database */
  postgres: number;
}

export interface LoadFigure {
  name: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  cpuUsPerRequest?: CpuPerRequest;
}

const CLOCK_TICK_US = 10_000; // USER_HZ is 100 on Linux

/** utime + stime of a process in microseconds (/proc/<pid>/stat); 0 when it has gone. */
export function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_US;
  } catch {
    return 0;
  }
}

/** Whose CPU to account a load run to: the server's pid and a way to list the PostgreSQL backends' pids. */
export interface CpuAccounting {
  serverPid: number;
  postgresPids(): Promise<number[]>;
}

/** The pids of the PostgreSQL backends connected to database `name`. */
export async function postgresBackendPids(name: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: BASE_DB });
  await client.connect();
  try {
    const result = await client.query<{ pid: number }>(
      "select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
      [name],
    );
    return result.rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

export async function cannon(
  name: string,
  options: autocannon.Options,
  accounting?: CpuAccounting,
): Promise<LoadFigure> {
  const pgPids = accounting ? await accounting.postgresPids() : [];
  const sum = (pids: number[]) => pids.reduce((a, pid) => a + cpuMicros(pid), 0);
  const before = accounting && {
    server: cpuMicros(accounting.serverPid),
    self: process.cpuUsage(),
    postgres: sum(pgPids),
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(options, (error, r) => (error ? reject(error) : resolve(r)));
  });
  const figure: LoadFigure = {
    name,
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
  if (accounting && before && result.requests.total > 0) {
    const self = process.cpuUsage(before.self);
    const n = result.requests.total;
    figure.cpuUsPerRequest = {
      server: (cpuMicros(accounting.serverPid) - before.server) / n,
      loadGenerator: (self.user + self.system) / n,
      postgres: (sum(pgPids) - before.postgres) / n,
    };
  }
  return figure;
}

/** Merges rounds of the same run: summed requests over summed time; latency percentiles as the mean of the rounds'. */
export function mergeRounds(name: string, rounds: LoadFigure[]): LoadFigure {
  const n = rounds.length;
  const mean = (pick: (r: LoadFigure) => number) => rounds.reduce((a, r) => a + pick(r), 0) / n;
  const total = (pick: (r: LoadFigure) => number) => rounds.reduce((a, r) => a + pick(r), 0);
  const merged: LoadFigure = {
    name,
    requestsPerSec: mean((r) => r.requestsPerSec),
    p50Ms: mean((r) => r.p50Ms),
    p99Ms: mean((r) => r.p99Ms),
    requests: total((r) => r.requests),
    non2xx: total((r) => r.non2xx),
    errors: total((r) => r.errors),
  };
  if (rounds.every((r) => r.cpuUsPerRequest)) {
    // weighted by requests: total CPU over total requests
    const cpu = (pick: (c: CpuPerRequest) => number) =>
      total((r) => pick(r.cpuUsPerRequest!) * r.requests) / merged.requests;
    merged.cpuUsPerRequest = {
      server: cpu((c) => c.server),
      loadGenerator: cpu((c) => c.loadGenerator),
      postgres: cpu((c) => c.postgres),
    };
  }
  return merged;
}

export interface Summary {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]!),
    mean: round(values.reduce((a, b) => a + b, 0) / values.length),
  };
}

// ---- the machine -------------------------------------------------------------------------------

export interface Machine {
  cpuModel: string;
  nproc: number;
  node: string;
  platform: string;
  totalMemoryMb: number;
  loadAverageAtStart: number[];
}

export async function describeMachine(): Promise<Machine> {
  const { availableParallelism, totalmem, loadavg } = await import("node:os");
  const cpuinfo = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  return {
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown",
    nproc: availableParallelism(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    totalMemoryMb: Math.round(totalmem() / 1024 / 1024),
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
