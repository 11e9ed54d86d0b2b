// `npm start` with one of its ports taken: it stops at once, before opening the database,
// naming the port, the service and the variable that moves it.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "@signet/test-support/net";
import { ROOT } from "@signet/test-support/processes";

const home = path.join(mkdtempSync(path.join(tmpdir(), "signet-busy-")), "home");
let squatter: Server;
let busy: number;
beforeAll(async () => {
  squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
  busy = (squatter.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => squatter.close(resolve));
  rmSync(path.dirname(home), { recursive: true, force: true });
});

it("a busy data port: exit 1, naming the port and SIGNET_DATA_PORT; nothing created", async () => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SIGNET_HOME: home,
    SIGNET_FRONTEND_PORT: String(await freePort()),
    SIGNET_DATA_PORT: String(busy),
    SIGNET_REGISTRY_PORT: String(await freePort()),
  };
  delete env.DATABASE_URL;
  delete env.NATS_URL;
  const child = spawn("npm", ["start"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  expect(code, out).toBe(1);
  expect(out).toContain(`npm start failed: port ${busy} (the data service) is in use on 127.0.0.1`);
  const other = busy + 10000 <= 65535 ? busy + 10000 : busy - 10000;
  expect(out).toContain(`SIGNET_DATA_PORT=${other} npm start`);
  expect(existsSync(home)).toBe(false);
}, 120_000);
