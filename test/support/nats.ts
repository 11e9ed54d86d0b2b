// NATS for tests: the shared server for ordinary tests, and a private nats-server
// (its own port and store) for tests that stop and restart it.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { inject } from "vitest";
import "./provided.js";
import { freePort, waitForPort } from "./net.js";

export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

export function testNatsUrl(): string {
  return inject("natsUrl");
}

export interface PrivateNats {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops for good and removes the store. */
  dispose(): Promise<void>;
}

export async function startPrivateNats(): Promise<PrivateNats> {
  if (!existsSync(NATS_SERVER_BIN)) {
    throw new Error(`${NATS_SERVER_BIN} not found: install Debian's nats-server (.ci/run does)`);
  }
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(tmpdir(), "signet-nats-"));
  let child: ChildProcess | undefined;

  const start = async () => {
    if (child) return;
    child = spawn(NATS_SERVER_BIN, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], {
      stdio: "ignore",
    });
    await waitForPort(port);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve());
      running.kill("SIGKILL");
    });
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    start,
    stop,
    dispose: async () => {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
