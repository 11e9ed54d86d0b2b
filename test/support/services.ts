// Finds the PostgreSQL and NATS the tests use (docs/api.md, "Test and benchmark settings"):
//   1. DATABASE_URL / NATS_URL when set;
//   2. otherwise the local servers (postgres://postgres@127.0.0.1:5432, nats://127.0.0.1:4222)
//      when they answer;
//   3. otherwise containers started with testcontainers when a Docker engine answers and can
//      provide the images.
// A Docker engine that cannot provide images (no internet) is no reason to fail: the error
// then names what is missing.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { answers } from "./net.js";

export const LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const LOCAL_NATS_URL = "nats://127.0.0.1:4222";

export interface TestServices {
  databaseUrl: string;
  natsUrl: string;
  /** Where each came from, e.g. { databaseUrl: "local", natsUrl: "environment" }. */
  sources: { databaseUrl: Source; natsUrl: Source };
  stop(): Promise<void>;
}

type Source = "environment" | "local" | "testcontainers";

async function dockerAnswers(): Promise<boolean> {
  try {
    await promisify(execFile)("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

interface Candidate {
  key: "databaseUrl" | "natsUrl";
  env: string | undefined;
  local: string;
  localPort: number;
  container: () => Promise<{ url: string; stop: () => Promise<unknown> }>;
}

async function startPostgresContainer() {
  const { GenericContainer, Wait } = await import("testcontainers"); // lazily: only with a Docker engine
  const pg = await new GenericContainer("postgres:16-alpine")
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: "trust" })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  return {
    url: `postgres://postgres@${pg.getHost()}:${pg.getMappedPort(5432)}/postgres`,
    stop: () => pg.stop(),
  };
}

async function startNatsContainer() {
  const { GenericContainer } = await import("testcontainers");
  const nats = await new GenericContainer("nats:2").withCommand(["-js"]).withExposedPorts(4222).start();
  return { url: `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`, stop: () => nats.stop() };
}

export async function resolveTestServices(): Promise<TestServices> {
  const candidates: Candidate[] = [
    {
      key: "databaseUrl",
      env: process.env.DATABASE_URL,
      local: LOCAL_DATABASE_URL,
      localPort: 5432,
      container: startPostgresContainer,
    },
    {
      key: "natsUrl",
      env: process.env.NATS_URL,
      local: LOCAL_NATS_URL,
      localPort: 4222,
      container: startNatsContainer,
    },
  ];
  const stops: (() => Promise<unknown>)[] = [];
  const found: Partial<Record<Candidate["key"], { url: string; source: Source }>> = {};
  let docker: boolean | undefined;
  for (const candidate of candidates) {
    if (candidate.env) {
      found[candidate.key] = { url: candidate.env, source: "environment" };
      continue;
    }
    if (await answers(candidate.localPort)) {
      found[candidate.key] = { url: candidate.local, source: "local" };
      continue;
    }
    docker ??= await dockerAnswers();
    if (!docker) {
      throw new Error(
        `no ${candidate.key === "databaseUrl" ? "PostgreSQL" : "NATS"} for the tests: set ${candidate.key === "databaseUrl" ? "DATABASE_URL" : "NATS_URL"}, start the local server on 127.0.0.1:${candidate.localPort} (.ci/run does), or run a Docker engine`,
      );
    }
    try {
      const started = await candidate.container();
      stops.push(started.stop);
      found[candidate.key] = { url: started.url, source: "testcontainers" };
    } catch (error) {
      await Promise.allSettled(stops.map((stop) => stop()));
      throw new Error(
        `nothing answers on 127.0.0.1:${candidate.localPort} and the Docker engine could not start a container (${(error as Error).message}); start the local server or set the URL`,
      );
    }
  }
  return {
    databaseUrl: found.databaseUrl!.url,
    natsUrl: found.natsUrl!.url,
    sources: { databaseUrl: found.databaseUrl!.source, natsUrl: found.natsUrl!.source },
    stop: async () => {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
