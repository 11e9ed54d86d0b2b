// A private PostgreSQL cluster (initdb into a scratch directory, its own port and socket
// directory; @signet/test-support's private server) that a test may stop — crash-style,
// `-m immediate` — and start again. Never the shared server.
// initdb refuses to run as root, so as root the tools run as the `postgres` OS user.
import { execFile } from "node:child_process";
import { chownSync, existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { startPrivateServer, type PrivateServer } from "@signet/test-support/processes";

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

/** stop() is crash-style (`pg_ctl -m immediate`: no checkpoint, a crash as far as the data files know). */
export type PrivatePostgres = PrivateServer;

export function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  return startPrivateServer({
    name: "pg",
    url: (port) => `postgres://postgres@127.0.0.1:${port}/postgres`,
    control: async (port, dir) => {
      const asRoot = process.getuid?.() === 0;
      if (asRoot) {
        const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
        const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
        chownSync(dir, uid, gid);
      }
      const exec = (tool: string, args: string[]) =>
        asRoot
          ? run("runuser", ["-u", "postgres", "--", path.join(bin, tool), ...args])
          : run(path.join(bin, tool), args);
      const data = path.join(dir, "data");
      await exec("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
      const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=50`;
      return {
        start: async () => {
          await exec("pg_ctl", [
            "-D",
            data,
            "-o",
            options,
            "-l",
            path.join(dir, "log"),
            "-w",
            "-t",
            "30",
            "start",
          ]);
        },
        stop: async () => {
          await exec("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
        },
      };
    },
  });
}
