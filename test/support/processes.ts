// Processes for tests and benchmarks: the repository root, the command lines of the npm
// scripts, stopping a child, and servers of a test's own (a nats-server, a PostgreSQL
// cluster) on a free port with a scratch directory, stopped and started again at will.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, waitForPort } from "./net.js";

export const ROOT = path.resolve(import.meta.dirname, "../..");

/** The command line behind `npm run <script>` (simple scripts only: words separated by spaces). */
export function npmScriptArgv(script: string): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  const line = pkg.scripts[script];
  if (!line) throw new Error(`no npm script ${script}`);
  return line.trim().split(/\s+/);
}

export interface CapturedProcess {
  child: ChildProcess;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/** Spawns `command` in the repository root with `env` (and nothing else of this process's), its output kept. */
export function spawnCaptured(command: string, args: string[], env: NodeJS.ProcessEnv): CapturedProcess {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Sends `signal` (SIGKILL after `timeoutMs`) and resolves with the exit code once the child has gone. */
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

export interface PrivateServer {
  url: string;
  port: number;
  /** The scratch directory: the server's files; removed by dispose(). */
  dir: string;
  /** Starts it again (a no-op while it runs); resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it the server's way (a kill, a crash-style shutdown): the test's outage. */
  stop(): Promise<void>;
  /** Stops it for good and removes its files. */
  dispose(): Promise<void>;
}

/** How a private server starts and stops, given its port and scratch directory. */
export interface ServerControl {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A long-running child process as a server: spawned by start() (once `port` answers), killed by stop(). */
export function childServer(command: string, args: string[], port: number): ServerControl {
  let child: ChildProcess | undefined;
  return {
    start: async () => {
      const started = spawn(command, args, { stdio: "ignore" });
      try {
        await waitForPort(port);
      } catch (error) {
        await stopChild(started, "SIGKILL");
        throw error;
      }
      child = started;
    },
    stop: async () => {
      if (child) await stopChild(child, "SIGKILL");
      child = undefined;
    },
  };
}

/**
 * A server of the caller's own, started: a free port, a scratch directory
 * ($TMPDIR/signet-<name>-…), `control` made once for both (it may prepare the directory).
 */
export async function startPrivateServer(options: {
  name: string;
  url: (port: number) => string;
  control: (port: number, dir: string) => ServerControl | Promise<ServerControl>;
}): Promise<PrivateServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), `signet-${options.name}-`));
  let control: ServerControl;
  try {
    control = await options.control(port, dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let running = false;
  const server: PrivateServer = {
    url: options.url(port),
    port,
    dir,
    start: async () => {
      if (running) return;
      await control.start();
      running = true;
    },
    stop: async () => {
      if (!running) return;
      running = false;
      await control.stop();
    },
    dispose: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (error) {
    await server.dispose().catch(() => undefined);
    throw error;
  }
  return server;
}
