// The NATS server the chart configures, run here (docs/design.md, "What the chart renders,
// runs"): the ConfigMap <fullname>-nats that helm rendered — accounts.conf, and nats.conf
// where the chart runs NATS itself — started as a private nats-server with only its listen
// addresses and file paths rewritten, and the passwords in its environment taken from the
// rendered Secret the way the chart hands them over.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { NATS_SERVER_BIN } from "@signet/test-support/nats";
import { freePort, waitForPort } from "@signet/test-support/net";
import { startPrivateServer, stopChild, type PrivateServer } from "@signet/test-support/processes";
import { waitFor } from "@signet/test-support/wait";
import { type K8sObject, type StringMap, byKind, decodeSecret, find, startEnv } from "./helm.js";

export interface ChartNats {
  server: PrivateServer;
  /** The configuration files as the server read them (after the rewrites). */
  files: StringMap;
  /** What the server logged (its permission violations, errors). */
  log(): string;
}

/** Replaces `from` with `to` in `text`, insisting that it occurs exactly once (a chart change must not slip past). */
function rewrite(text: string, from: string, to: string): string {
  const count = text.split(from).length - 1;
  if (count !== 1)
    throw new Error(`expected "${from}" once in the rendered NATS configuration, found ${count}`);
  return text.replace(from, to);
}

/**
 * The environment the chart gives its NATS: the in-chart server's container env (dev.nats),
 * or — for an external NATS — each `$SIGNET_NATS_<SERVICE>_PASSWORD` of accounts.conf from
 * the NATS Secret's `<service>-password`, as docs/kubernetes.md tells its operator to.
 */
function serverEnv(objects: K8sObject[], accounts: string): StringMap {
  const sts = byKind<K8sObject & { spec: { template: { spec: { containers: { name: string }[] } } } }>(
    objects,
    "StatefulSet",
  ).find((s) => s.metadata.name === "signet-nats");
  if (sts) return startEnv(objects, sts.spec.template.spec.containers[0] as never);
  const secret = decodeSecret(find(objects, "Secret", "signet-nats"));
  const env: StringMap = {};
  for (const [, name, service] of accounts.matchAll(/\$(SIGNET_NATS_([A-Z]+)_PASSWORD)/g)) {
    const value = secret[`${service!.toLowerCase()}-password`];
    if (value === undefined) throw new Error(`the NATS Secret has no password for ${service}`);
    env[name!] = value;
  }
  return env;
}

/**
 * Starts a private nats-server on the chart's configuration. `tlsDir` holds tls.crt and
 * tls.key when the render enables nats.tls.
 */
export async function startChartNats(objects: K8sObject[], tlsDir?: string): Promise<ChartNats> {
  const cm = find(objects, "ConfigMap", "signet-nats");
  const accounts = cm.data?.["accounts.conf"];
  if (!accounts) throw new Error("the ConfigMap signet-nats holds no accounts.conf");
  const env = serverEnv(objects, accounts);
  const files: StringMap = {};
  let stderr = "";
  const server = await startPrivateServer({
    name: "chart-nats",
    url: (port) => `nats://127.0.0.1:${port}`,
    control: async (port, dir) => {
      const store = path.join(dir, "jetstream");
      mkdirSync(store);
      const rendered = cm.data?.["nats.conf"];
      let conf: string;
      if (rendered) {
        conf = rewrite(rendered, 'listen: "0.0.0.0:4222"', `listen: "127.0.0.1:${port}"`);
        conf = rewrite(conf, 'http: "0.0.0.0:8222"', `http: "127.0.0.1:${await freePort()}"`);
        conf = rewrite(conf, 'store_dir: "/data"', `store_dir: "${store}"`);
        if (tlsDir) conf = conf.replaceAll('"/etc/nats/tls/', `"${tlsDir}/`);
      } else {
        // An external NATS: its own listener and JetStream, and the chart's accounts.conf.
        conf = `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${store}" }\ninclude ./accounts.conf\n`;
      }
      files["nats.conf"] = conf;
      files["accounts.conf"] = accounts;
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
      let child: ReturnType<typeof spawn> | undefined;
      return {
        start: async () => {
          const started = spawn(NATS_SERVER_BIN, ["-c", path.join(dir, "nats.conf")], {
            env: { PATH: process.env.PATH, ...env },
            stdio: ["ignore", "ignore", "pipe"],
          });
          started.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
          const exited = new Promise<never>((_resolve, reject) =>
            started.once("exit", (code) => reject(new Error(`nats-server exited (${code}):\n${stderr}`))),
          );
          try {
            await Promise.race([waitForPort(port), exited]);
          } catch (error) {
            await stopChild(started, "SIGKILL");
            throw error;
          }
          exited.catch(() => undefined);
          child = started;
        },
        stop: async () => {
          if (child) await stopChild(child, "SIGKILL");
          child = undefined;
        },
      };
    },
  });
  return { server, files, log: () => stderr };
}

/** What a client learns from the server about its own rights: the permission violations reported to it. */
export interface Client {
  nc: NatsConnection;
  violations: { operation: string; subject: string }[];
  /** Resolves true once the server refused `operation` on `subject` (false after `timeoutMs`). */
  refused(operation: "publish" | "subscription", subject: string, timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Connects with the given options (no reconnects: a refusal must surface at once). */
export async function connectClient(url: string, options: ConnectionOptions = {}): Promise<Client> {
  const nc = await connect({ servers: url, reconnect: false, ...options });
  const violations: Client["violations"] = [];
  void (async () => {
    for await (const status of nc.status()) {
      const error = (status as { error?: unknown }).error as
        { name?: string; operation?: string; subject?: string } | undefined;
      if (status.type === "error" && error?.name === "PermissionViolationError") {
        violations.push({ operation: error.operation ?? "", subject: error.subject ?? "" });
      }
    }
  })();
  const seen = (operation: string, subject: string) =>
    violations.some((v) => v.operation === operation && v.subject === subject);
  return {
    nc,
    violations,
    refused: async (operation, subject, timeoutMs = 2_000) => {
      await nc.flush();
      try {
        await waitFor(
          `a ${operation} violation on ${subject}`,
          () => seen(operation, subject),
          timeoutMs,
          10,
        );
        return true;
      } catch {
        return false;
      }
    },
    close: async () => {
      if (!nc.isClosed()) await nc.close();
    },
  };
}
