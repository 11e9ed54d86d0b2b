// Shared plumbing for the benchmarks (outside vitest; databases, seeders, pods, signing and
// processes are @signet/test-support's): signed requests for autocannon, the RSS and CPU time
// of processes (PostgreSQL backends included), autocannon wrapped in a promise, percentiles,
// and a description of the machine.
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import autocannon from "autocannon";
import pg from "pg";
import { databaseServerUrl } from "@signet/test-support/db";
import { signedRequest, type SignedOptions } from "@signet/test-support/signed";

/** autocannon's request list for one signed request: a fresh nonce, timestamp and signature every time. */
export function signedRequests(base: string, options: Omit<SignedOptions, "origin">): autocannon.Request[] {
  return [
    {
      method: options.method,
      path: options.url,
      setupRequest: (req: autocannon.Request) => {
        const signed = signedRequest({ ...options, origin: base });
        return {
          ...req,
          method: signed.method,
          headers: { ...req.headers, ...signed.headers },
          ...(signed.payload !== undefined ? { body: signed.payload } : {}),
        };
      },
    },
  ];
}

// ---- processes ---------------------------------------------------------------------------------

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
  const client = new pg.Client({ connectionString: databaseServerUrl() });
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

/**
 * CPU time the PostgreSQL backends spent since `before` (pid → CPU then): a backend that
 * ended meanwhile is left out (its last figures are gone), one that started counts whole
 * (pools close idle connections and open new ones under load).
 */
export async function postgresCpuSince(
  before: Map<number, number>,
  accounting: CpuAccounting,
): Promise<number> {
  let total = 0;
  for (const pid of await accounting.postgresPids()) {
    total += Math.max(0, cpuMicros(pid) - (before.get(pid) ?? 0));
  }
  return total;
}

export async function cannon(
  name: string,
  options: autocannon.Options,
  accounting?: CpuAccounting,
): Promise<LoadFigure> {
  const pgBefore = new Map<number, number>();
  for (const pid of accounting ? await accounting.postgresPids() : []) pgBefore.set(pid, cpuMicros(pid));
  const before = accounting && {
    server: cpuMicros(accounting.serverPid),
    self: process.cpuUsage(),
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
      postgres: (await postgresCpuSince(pgBefore, accounting)) / n,
    };
  }
  return figure;
}

/** A Prometheus histogram's running sum and count, read off a service's GET /metrics. */
export async function scrapeHistogram(
  metricsUrl: string,
  name: string,
): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const value = (suffix: string) => {
    // `name_sum 12` or, with the registry's default labels, `name_sum{pod="…"} 12`
    const line = text.split("\n").find((l) => /^[^ {]+/.exec(l)?.[0] === `${name}_${suffix}`);
    if (!line) throw new Error(`${metricsUrl} has no ${name}_${suffix}`);
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  };
  return { sum: value("sum"), count: value("count") };
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
