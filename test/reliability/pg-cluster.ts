// A private PostgreSQL cluster (initdb into a temp dir, its own port and socket dir) that a
// test may stop — crash-style, `-m immediate` — and start again. Never the shared server.
// initdb refuses to run as root, so as root the tools run as the `postgres` OS user.
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "@signet/test-support/net";

const run = promisify(execFile);

function binDir(): string {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) throw new Error("no /usr/lib/postgresql: install PostgreSQL's server package");
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error("no initdb under /usr/lib/postgresql");
  return path.join(root, versions[0], "bin");
}

export interface PrivatePostgres {
  port: number;
  /** postgres://… of the cluster's `postgres` database. */
  url: string;
  start(): Promise<void>;
  /** Stops at once, without a checkpoint (a crash, as far as the data files know). */
  stopImmediate(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const dir = mkdtempSync(path.join(tmpdir(), "signet-pg-"));
  const asRoot = process.getuid?.() === 0;
  let uid = -1;
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    uid = Number(stdout.trim());
    const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const exec = (tool: string, args: string[]) =>
    asRoot
      ? run("runuser", ["-u", "postgres", "--", path.join(bin, tool), ...args])
      : run(path.join(bin, tool), args);
  const data = path.join(dir, "data");
  const port = await freePort();
  await exec("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=50`;
  const start = async () => {
    await exec("pg_ctl", ["-D", data, "-o", options, "-l", path.join(dir, "log"), "-w", "-t", "30", "start"]);
  };
  const stopImmediate = async () => {
    await exec("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
  };
  await start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stopImmediate,
    dispose: async () => {
      await exec("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
