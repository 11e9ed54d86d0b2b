// Finds the PostgreSQL and NATS the tests use, in the order CONTRACT.md gives:
// DATABASE_URL / NATS_URL; testcontainers when a Docker engine answers; local services.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

export const LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const LOCAL_NATS_URL = "nats://127.0.0.1:4222";

export interface TestServices {
  databaseUrl: string;
  natsUrl: string;
  source: "environment" | "testcontainers" | "local";
  stop(): Promise<void>;
}

async function dockerAnswers(): Promise<boolean> {
  try {
    await promisify(execFile)("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

export async function resolveTestServices(): Promise<TestServices> {
  const fromEnv = { databaseUrl: process.env.DATABASE_URL, natsUrl: process.env.NATS_URL };
  const stops: (() => Promise<unknown>)[] = [];
  let source: TestServices["source"] = "environment";

  if ((!fromEnv.databaseUrl || !fromEnv.natsUrl) && (await dockerAnswers())) {
    source = "testcontainers";
    // Imported lazily: only machines with a Docker engine need it.
    const { GenericContainer, Wait } = await import("testcontainers");
    if (!fromEnv.databaseUrl) {
      const pg = await new GenericContainer("postgres:16-alpine")
        .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: "trust" })
        .withExposedPorts(5432)
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
        .start();
      stops.push(() => pg.stop());
      fromEnv.databaseUrl = `postgres://postgres@${pg.getHost()}:${pg.getMappedPort(5432)}/postgres`;
    }
    if (!fromEnv.natsUrl) {
      const nats = await new GenericContainer("nats:2").withCommand(["-js"]).withExposedPorts(4222).start();
      stops.push(() => nats.stop());
      fromEnv.natsUrl = `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`;
    }
  } else if (!fromEnv.databaseUrl || !fromEnv.natsUrl) {
    source = "local";
  }

  return {
    databaseUrl: fromEnv.databaseUrl ?? LOCAL_DATABASE_URL,
    natsUrl: fromEnv.natsUrl ?? LOCAL_NATS_URL,
    source,
    stop: async () => {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
