// NATS for tests: the shared server for ordinary tests, and a private nats-server
// (its own port and store) for tests and benchmarks that stop and restart it.
import { existsSync } from "node:fs";
import { inject } from "vitest";
import "./provided.js";
import { childServer, startPrivateServer, type PrivateServer } from "./processes.js";

export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

/** The NATS the global setup found (inside vitest only). */
export function testNatsUrl(): string {
  return inject("natsUrl");
}

export type PrivateNats = PrivateServer;

/** A nats-server of the caller's own, JetStream on, its store in the scratch directory; stop() kills it. */
export async function startPrivateNats(): Promise<PrivateNats> {
  if (!existsSync(NATS_SERVER_BIN)) {
    throw new Error(`${NATS_SERVER_BIN} not found: install Debian's nats-server (.ci/run does)`);
  }
  return startPrivateServer({
    name: "nats",
    url: (port) => `nats://127.0.0.1:${port}`,
    control: (port, dir) =>
      childServer(NATS_SERVER_BIN, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], port),
  });
}
