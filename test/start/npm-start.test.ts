// `npm start` smoke test: boots the all-in-one process on free ports in a temp
// directory (embedded PostgreSQL, in-process bus), the demo user logs in through the
// frontend, Ctrl-C stops it cleanly, and a second start keeps the data.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Agent } from "@signet/test-support/agent";
import { freePort } from "@signet/test-support/net";
import { ROOT } from "@signet/test-support/processes";

const home = mkdtempSync(path.join(tmpdir(), "signet-start-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

interface Running {
  child: ChildProcess;
  output: () => string;
  ports: { frontend: number; data: number; registry: number };
}

async function start(): Promise<Running> {
  const ports = { frontend: await freePort(), data: await freePort(), registry: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SIGNET_HOME: home,
    SIGNET_FRONTEND_PORT: String(ports.frontend),
    SIGNET_DATA_PORT: String(ports.data),
    SIGNET_REGISTRY_PORT: String(ports.registry),
  };
  delete env.DATABASE_URL;
  delete env.NATS_URL;
  // Its own process group, so "Ctrl-C" can reach the group as a terminal's would.
  const child = spawn("npm", ["start"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  await expect
    .poll(() => out, { timeout: 60_000, interval: 200 })
    .toMatch(/Press Ctrl-C to stop|npm start failed/);
  expect(out).toContain("Press Ctrl-C to stop");
  return { child, output: () => out, ports };
}

/** Ctrl-C; resolves once npm has exited (npm itself ends by the signal, as in a terminal). */
async function stop(running: Running): Promise<void> {
  const exited = new Promise<void>((resolve) => running.child.once("exit", () => resolve()));
  // A terminal's Ctrl-C sends SIGINT to the whole foreground process group.
  process.kill(-running.child.pid!, "SIGINT");
  return exited;
}

/** Logs in through the frontend's form like a browser (CSRF token, cookies), then opens the home page. */
async function login(
  frontend: number,
  username: string,
  password: string,
): Promise<{ status: number; home: string }> {
  const agent = new Agent(`http://127.0.0.1:${frontend}`);
  const { status } = await agent.login(username, password);
  return { status, home: (await agent.get("/")).body };
}

describe("npm start", () => {
  let demo: { username: string; password: string };

  it("boots with embedded services, seeds, and the demo user logs in", async () => {
    const running = await start();
    const out = running.output();
    expect(out).toContain("first start, seeded");
    expect(out).toContain("embedded PostgreSQL (PGlite)");
    expect(out).toContain("in-process event bus");
    const match = /demo login:\s+(\S+) \/ (\S+)/.exec(out);
    expect(match).toBeTruthy();
    demo = { username: match![1]!, password: match![2]! };
    expect(/admin token:\s+\S{20,}/.test(out)).toBe(true);
    // Secrets kept for later starts are readable by the owner only.
    expect(statSync(path.join(home, "state.json")).mode & 0o077).toBe(0);

    const ok = await login(running.ports.frontend, demo.username, demo.password);
    expect(ok.status).toBe(303);
    expect(ok.home).toContain("Demo User");
    const wrong = await login(running.ports.frontend, demo.username, "not-the-password");
    expect(wrong.status).toBe(401);

    const registry = await fetch(`http://127.0.0.1:${running.ports.registry}/consumers`, {
      headers: { authorization: `Bearer ${/admin token:\s+(\S+)/.exec(out)![1]}` },
    });
    const body = (await registry.json()) as { consumers: { name: string; status: string }[] };
    expect(body.consumers).toEqual([expect.objectContaining({ name: "frontend", status: "active" })]);

    await stop(running);
    expect(running.output()).toContain("stopped.");
    await expect(fetch(`http://127.0.0.1:${running.ports.data}/healthz`)).rejects.toThrow();
  }, 120_000);

  it("killed without a chance to stop (SIGKILL), the next start keeps the data and signs in at once", async () => {
    const killed = await start();
    const exited = new Promise<void>((resolve) => killed.child.once("exit", () => resolve()));
    process.kill(-killed.child.pid!, "SIGKILL");
    await exited;
    const running = await start();
    // the embedded database's nonces are logged: nothing was lost, so the frontend's signed
    // /authenticate is not refused (timestamp_refused) for a window after the crash
    const ok = await login(running.ports.frontend, demo.username, demo.password);
    expect(ok.status).toBe(303);
    expect(ok.home).toContain("Demo User");
    expect(running.output()).not.toContain("lost");
    await stop(running);
  }, 120_000);

  it("a second start keeps the data", async () => {
    const running = await start();
    expect(running.output()).toContain("data kept from the last start");
    const ok = await login(running.ports.frontend, demo.username, demo.password);
    expect(ok.status).toBe(303);
    expect(ok.home).toContain("Demo User");
    await stop(running);
    expect(running.output()).toContain("stopped.");
  }, 120_000);
});
