// The chart's NATS is a trust boundary (docs/kubernetes.md, "NATS as a trust boundary"),
// proven on a real nats-server started on the configuration helm renders: with the default
// values (an external NATS loading the chart's accounts.conf) and the development values
// (the in-chart NATS with its own nats.conf), and with TLS. Each service connects with
// exactly the credentials its pod is given (NATS_USER, NATS_PASSWORD from the Secret), may
// publish and subscribe what services/*/src uses, and is refused everything else; nobody
// connects without a password.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Session } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvCounters } from "@signet/frontend/rate-limit-counters";
import { SessionSeal } from "@signet/frontend/session-seal";
import { NatsKvSessionStore } from "@signet/frontend/session-store";
import { NatsBus } from "@signet/shared/bus";
import { SUBJECTS, type Subject } from "@signet/shared/events";
import { sealed } from "@signet/test-support/keys";
import { sleep, waitFor } from "@signet/test-support/wait";
import {
  type Component,
  type K8sObject,
  COMPONENTS,
  type Workload,
  DEV,
  effectiveEnv,
  find,
  mainContainer,
  PROD,
  refusedSet,
  render,
  repoRoot,
  startEnv,
} from "./helm.js";
import { type ChartNats, type Client, connectClient, startChartNats } from "./nats-server.js";

/**
 * Who sends and who acts on each subject (docs/api.md, "Events (NATS)"): the registry's
 * operations and outbox relay publish the revocation events (signet.token.revoked also comes
 * from a data pod's logout), data pods act on them and confirm by replying; data pods
 * announce themselves to the registry, which asks them to (discover). A subject added to
 * SUBJECTS fails to compile here until it is placed, and then these checks say whether the
 * chart's permissions (templates/_helpers.tpl, "signet.components") let it through.
 */
const FLOWS: Record<Subject, { from: Component[]; to: Component[]; confirmed?: true }> = {
  "signet.consumer.revoked": { from: ["registry"], to: ["data"], confirmed: true },
  "signet.consumer.rotated": { from: ["registry"], to: ["data"], confirmed: true },
  "signet.user.disabled": { from: ["registry"], to: ["data"], confirmed: true },
  "signet.token.revoked": { from: ["registry", "data"], to: ["data"], confirmed: true },
  "signet.consumer.updated": { from: ["registry"], to: ["data"], confirmed: true },
  "signet.tokens.not_before": { from: ["registry"], to: ["data"], confirmed: true },
  "signet.pod.heartbeat": { from: ["data"], to: ["registry"] },
  "signet.pod.goodbye": { from: ["data"], to: ["registry"] },
  "signet.pod.discover": { from: ["registry"], to: ["data"] },
};
const BUCKET = "signet-sessions";
const COUNTERS = "signet-rate-limits";

/** Subjects no service uses, per service: refused publishes and subscriptions beyond the event subjects. */
const FORBIDDEN: Record<Component, { publish: string[]; subscribe: string[] }> = {
  data: {
    // a reply nobody asked for (a forged confirmation), the session bucket, the JetStream API
    publish: ["_INBOX.forged.1", `$KV.${BUCKET}.someone`, "$JS.API.INFO", `$JS.API.STREAM.INFO.KV_${BUCKET}`],
    // other services' replies (confirmations, the frontend's session reads)
    subscribe: [">", "signet.>", "_INBOX.>", `$KV.${BUCKET}.>`],
  },
  registry: {
    publish: [
      "_INBOX.forged.1",
      `$KV.${BUCKET}.someone`,
      "$JS.API.INFO",
      `$JS.API.STREAM.DELETE.KV_${BUCKET}`,
    ],
    subscribe: [">", "signet.>", `$KV.${BUCKET}.>`],
  },
  frontend: {
    publish: [
      "_INBOX.forged.1",
      "signet.anything",
      `$JS.API.STREAM.DELETE.KV_${BUCKET}`,
      `$JS.API.STREAM.PURGE.KV_${BUCKET}`,
      `$JS.API.STREAM.UPDATE.KV_${BUCKET}`,
      "$JS.API.STREAM.CREATE.KV_other",
      "$JS.API.STREAM.LIST",
      `$JS.API.CONSUMER.CREATE.KV_${BUCKET}`,
      "$KV.other.key",
      `$JS.API.STREAM.DELETE.KV_${COUNTERS}`,
    ],
    // the bucket's writes as they happen, the bus
    subscribe: [">", "signet.>", `$KV.${BUCKET}.>`, `$KV.${COUNTERS}.>`],
  },
};

interface Running {
  objects: K8sObject[];
  nats: ChartNats;
  env: Record<Component, Record<string, string>>;
  clients: Record<Component, Client>;
}

/** Renders, starts the chart's NATS and connects each service as its pod would. */
async function start(args: string[], tlsDir?: string, tls?: { ca: string }): Promise<Running> {
  const { objects } = render(args);
  const nats = await startChartNats(objects, tlsDir);
  const env = Object.fromEntries(COMPONENTS.map((c) => [c, startEnv(objects, c)])) as Running["env"];
  const clients = {} as Running["clients"];
  for (const c of COMPONENTS) {
    clients[c] = await connectClient(nats.server.url, {
      user: env[c].NATS_USER,
      pass: env[c].NATS_PASSWORD,
      name: `chart-test-${c}`,
      ...(tls ? { tls } : {}),
    });
  }
  return { objects, nats, env, clients };
}

async function stop(running: Running | undefined): Promise<void> {
  if (!running) return;
  for (const client of Object.values(running.clients)) await client.close();
  await running.nats.server.dispose();
}

/** Resolves with the first message on `subject` that `client` hears, or undefined after `ms`. */
function firstMessage(client: Client, subject: string, ms = 2_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      resolve(undefined);
    }, ms);
    const sub = client.nc.subscribe(subject, {
      callback: (_error, msg) => {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(msg.string());
      },
    });
  });
}

describe.each([
  { name: "default values: an external NATS loading accounts.conf", args: [] as string[] },
  { name: "values-dev.yaml: the in-chart NATS", args: DEV },
])("the chart's NATS accounts ($name)", ({ args }) => {
  let running: Running;
  beforeAll(async () => {
    running = await start(args);
  });
  afterAll(() => stop(running));

  it("hands each service its own user and a password from the NATS Secret", () => {
    const users = COMPONENTS.map((c) => running.env[c].NATS_USER);
    expect(new Set(users).size).toBe(3);
    for (const c of COMPONENTS) {
      expect(running.nats.files["accounts.conf"]).toContain(`user: "${running.env[c].NATS_USER}"`);
      const password = mainContainer(running.objects, c).env?.find((e) => e.name === "NATS_PASSWORD");
      expect(password?.valueFrom?.secretKeyRef, c).toEqual({ name: "signet-nats", key: `${c}-password` });
      expect(running.env[c].NATS_PASSWORD, c).toMatch(/^[A-Za-z][A-Za-z0-9]{47}$/);
    }
    // the configuration holds no password, only the names of the variables that carry them
    for (const c of COMPONENTS) {
      for (const text of Object.values(running.nats.files))
        expect(text).not.toContain(running.env[c].NATS_PASSWORD);
    }
  });

  it("refuses a client without credentials, with a wrong password or with another service's password", async () => {
    const url = running.nats.server.url;
    const { data, registry } = running.env;
    for (const options of [
      {},
      { user: data.NATS_USER, pass: "wrong-password" },
      { user: data.NATS_USER, pass: registry.NATS_PASSWORD },
      { user: "admin", pass: "admin" },
    ]) {
      await expect(connectClient(url, options), JSON.stringify(options)).rejects.toThrow(/authoriz/i);
    }
  });

  it.each(Object.entries(FLOWS) as [Subject, (typeof FLOWS)[Subject]][])(
    "lets %s pass from its publishers to the services acting on it",
    async (subject, { from, to }) => {
      const marks = COMPONENTS.map((c) => running.clients[c].violations.length);
      for (const sender of from) {
        for (const receiver of to) {
          const heard = firstMessage(running.clients[receiver], subject);
          await running.clients[receiver].nc.flush();
          running.clients[sender].nc.publish(subject, `from ${sender}`);
          expect(await heard, `${sender} → ${receiver}`).toBe(`from ${sender}`);
        }
      }
      COMPONENTS.forEach((c, i) => expect(running.clients[c].violations.slice(marks[i]), c).toEqual([]));
    },
  );

  it("lets a data pod answer each request once (its confirmation) and the registry hear it on its inbox", async () => {
    const { data, registry } = running.clients;
    const mark = registry.violations.length;
    const confirmed = (Object.keys(FLOWS) as Subject[]).filter((s) => FLOWS[s].confirmed);
    expect(confirmed.length).toBeGreaterThanOrEqual(4);
    for (const subject of confirmed) {
      let second: Promise<boolean> | undefined;
      const sub = data.nc.subscribe(subject, {
        max: 1,
        callback: (_error, msg) => {
          msg.respond(`confirmed ${subject}`);
          // a second answer to the same request is one the registry would count twice
          msg.respond(`again ${subject}`);
          second = data.refused("publish", msg.reply ?? "");
        },
      });
      await data.nc.flush();
      const reply = await registry.nc.request(subject, "event", { timeout: 2_000 });
      expect(reply.string()).toBe(`confirmed ${subject}`);
      expect(await second, `${subject}: a second reply`).toBe(true);
      sub.unsubscribe();
    }
    expect(registry.violations.slice(mark)).toEqual([]);
  });

  it("carries the services' own bus (NatsBus, sealed) with their credentials: a revocation confirmed, a heartbeat heard", async () => {
    const connectBus = async (c: Component) =>
      sealed(
        await NatsBus.connect({
          servers: running.nats.server.url,
          name: `chart-bus-${c}`,
          auth: { user: running.env[c].NATS_USER, password: running.env[c].NATS_PASSWORD },
        }),
      );
    const dataBus = await connectBus("data");
    const registryBus = await connectBus("registry");
    try {
      const subject = SUBJECTS.consumerRevoked;
      const heartbeats: unknown[] = [];
      dataBus.subscribe(subject, () => ({ pod: "pod-1", subject, evicted: true }));
      registryBus.subscribe(SUBJECTS.podHeartbeat, (payload) => void heartbeats.push(payload));
      for (const bus of [dataBus, registryBus]) await (bus.inner as NatsBus).nc.flush();
      const replies = await registryBus.gather(subject, { key: "k1" }, { windowMs: 2_000, expected: 1 });
      expect(replies).toEqual([{ pod: "pod-1", subject, evicted: true }]);
      await dataBus.publish(SUBJECTS.podHeartbeat, {
        pod: "pod-1",
        at: new Date().toISOString(),
        interval_ms: 5_000,
      });
      await waitFor("the heartbeat", () => heartbeats.length === 1, 2_000);
    } finally {
      await Promise.all([dataBus.close(), registryBus.close()]);
    }
  });

  it("refuses every service the event subjects it does not use, and delivers nothing it sent there", async () => {
    const { data, registry } = running.clients;
    // what the services listen to, listening: a forged event must not reach them
    const heard: string[] = [];
    const listeners = (Object.keys(FLOWS) as Subject[]).flatMap((subject) =>
      FLOWS[subject].to.map((c) =>
        running.clients[c].nc.subscribe(subject, {
          callback: (_e, msg) => void heard.push(msg.string()),
        }),
      ),
    );
    await Promise.all([data.nc.flush(), registry.nc.flush()]);
    for (const subject of Object.values(SUBJECTS)) {
      for (const c of COMPONENTS) {
        const client = running.clients[c];
        if (!FLOWS[subject].from.includes(c)) {
          client.nc.publish(subject, `forged by ${c}`);
          expect(await client.refused("publish", subject), `${c} publishes ${subject}`).toBe(true);
        }
        if (!FLOWS[subject].to.includes(c)) {
          client.nc.subscribe(subject);
          expect(await client.refused("subscription", subject), `${c} subscribes ${subject}`).toBe(true);
        }
      }
    }
    await sleep(100);
    expect(heard).toEqual([]);
    for (const l of listeners) l.unsubscribe();
  });

  it.each(COMPONENTS)(
    "refuses %s what no part of it needs (replies it was not asked for, other buckets, wildcards)",
    async (c) => {
      const client = running.clients[c];
      for (const subject of FORBIDDEN[c].publish) {
        client.nc.publish(subject, "x");
        expect(await client.refused("publish", subject), `publish ${subject}`).toBe(true);
      }
      for (const subject of FORBIDDEN[c].subscribe) {
        client.nc.subscribe(subject);
        expect(await client.refused("subscription", subject), `subscribe ${subject}`).toBe(true);
      }
    },
  );

  it("lets the frontend keep sessions and rate-limit counters in its buckets with its own code, and nobody else read them", async () => {
    const { frontend, data, registry } = running.clients;
    const env = running.env.frontend;
    expect([env.SESSION_BUCKET, env.RATE_LIMIT_BUCKET]).toEqual([BUCKET, COUNTERS]);
    const mark = frontend.violations.length;
    const seal = new SessionSeal([env.SESSION_SECRET!]);
    const open = () => NatsKvSessionStore.open(frontend.nc, { bucket: BUCKET, ttlMs: 60_000, seal });
    const store = await open();
    await open(); // a second replica finds the bucket there
    const id = "chartTestSession0123456789";
    const call = <T>(fn: (cb: (error: unknown, value?: T) => void) => void) =>
      new Promise<T | undefined>((resolve, reject) =>
        fn((error, value) => (error ? reject(error) : resolve(value))),
      );
    const session = { user: { id: "u1", username: "ada", display_name: "Ada" } } as unknown as Session;
    await call((cb) => store.set(id, session, cb));
    expect(await call<Session | null>((cb) => store.get(id, cb))).toMatchObject({
      user: { username: "ada" },
    });
    await store.ping();

    // an hour's window: the two hits never straddle a window's end
    const counters = await KvCounters.open(frontend.nc, { bucket: COUNTERS, maxWindowMs: 3_600_000 });
    expect((await counters.hit("203.0.113.9", 3_600_000, 5)).current).toBe(1);
    expect((await counters.hit("203.0.113.9", 3_600_000, 5)).current).toBe(2);
    expect(frontend.violations.slice(mark)).toEqual([]);

    // the other services can neither read an entry nor write one
    for (const other of [data, registry]) {
      for (const subject of [
        `$JS.API.DIRECT.GET.KV_${BUCKET}.$KV.${BUCKET}.anykey`,
        `$JS.API.STREAM.MSG.GET.KV_${COUNTERS}`,
        `$KV.${COUNTERS}.203.0.113.9`,
      ]) {
        other.nc.publish(subject, "");
        expect(await other.refused("publish", subject), subject).toBe(true);
      }
    }
    await call((cb) => store.destroy(id, cb));
    expect(await call<Session | null>((cb) => store.get(id, cb))).toBeNull();
  });
});

/**
 * The Secret each service's NODE_EXTRA_CA_CERTS comes from, checking that the file is that
 * Secret's ca.crt and nothing else of it is mounted (the server's key never reaches a service).
 */
function caSecrets(objects: K8sObject[]): string[] {
  return COMPONENTS.map((c) => {
    const caPath = effectiveEnv(objects, c).get("NODE_EXTRA_CA_CERTS")?.value ?? "";
    const mount = mainContainer(objects, c).volumeMounts?.find((m) => caPath.startsWith(`${m.mountPath}/`));
    const pod = find<Workload>(objects, "Deployment", `signet-${c}`).spec.template.spec;
    const secret = pod.volumes?.find((v) => v.name === mount?.name)?.secret;
    expect(secret?.items, c).toEqual([{ key: "ca.crt", path: path.basename(caPath) }]);
    return secret?.secretName ?? "";
  });
}

describe("NATS over TLS (nats.tls)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "signet-chart-tls-"));
  const TLS_ARGS = [...DEV, "--set", "nats.tls.enabled=true", "--set", "nats.tls.secretName=signet-nats-tls"];
  let running: Running | undefined;
  let ca: string;

  beforeAll(async () => {
    // a CA and a server certificate naming the in-chart NATS (and this machine's loopback)
    const openssl = (...a: string[]) => {
      const r = spawnSync("openssl", a, { cwd: dir, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`openssl ${a.join(" ")}: ${r.stderr}`);
    };
    openssl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=signet-test-ca",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
    );
    openssl(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      "/CN=signet-nats",
      "-keyout",
      "tls.key",
      "-out",
      "tls.csr",
    );
    writeFileSync(path.join(dir, "san.ext"), "subjectAltName=DNS:signet-nats,DNS:localhost,IP:127.0.0.1\n");
    openssl(
      "x509",
      "-req",
      "-in",
      "tls.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      "san.ext",
      "-out",
      "tls.crt",
    );
    ca = readFileSync(path.join(dir, "ca.crt"), "utf8");
    running = await start(TLS_ARGS, dir, { ca });
  });
  afterAll(async () => {
    await stop(running);
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves only TLS: the server announces it requires it and the services' connections are encrypted", async () => {
    const info = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(running!.nats.server.port, "127.0.0.1");
      socket.once("data", (d) => {
        socket.destroy();
        resolve(d.toString());
      });
      socket.once("error", reject);
    });
    expect(JSON.parse(info.replace(/^INFO /, "")).tls_required).toBe(true);
    for (const c of COMPONENTS) expect(running!.clients[c].nc.info?.tls_required, c).toBe(true);
  });

  it("is verified: a client that does not trust the chart's CA cannot connect", async () => {
    const { data } = running!.env;
    await expect(
      connectClient(running!.nats.server.url, { user: data.NATS_USER, pass: data.NATS_PASSWORD }),
    ).rejects.toThrow(/certificate/i);
  });

  it("hands each service the CA the way a pod gets it (NODE_EXTRA_CA_CERTS from the Secret's ca.crt), and that is enough", () => {
    expect(caSecrets(running!.objects)).toEqual(["signet-nats-tls", "signet-nats-tls", "signet-nats-tls"]);
    // an external NATS (ci/values-prod.yaml): the same, from the Secret holding its CA
    expect(caSecrets(render(PROD).objects)).toEqual(["signet-nats-ca", "signet-nats-ca", "signet-nats-ca"]);
    // a service process with only NODE_EXTRA_CA_CERTS set (no TLS option in its code) connects over TLS
    const { data } = running!.env;
    const script = `import { connect } from "@nats-io/transport-node";
      const nc = await connect({ servers: process.env.URL, user: process.env.U, pass: process.env.P, reconnect: false });
      console.log(JSON.stringify({ tls: nc.info.tls_required }));
      await nc.close();`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: repoRoot,
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        NODE_EXTRA_CA_CERTS: path.join(dir, "ca.crt"),
        URL: running!.nats.server.url,
        U: data.NATS_USER,
        P: data.NATS_PASSWORD,
      },
    });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ tls: true });
  });

  it("keeps the permissions: the frontend still cannot publish a revocation", async () => {
    const { frontend } = running!.clients;
    frontend.nc.publish(SUBJECTS.consumerRevoked, "forged");
    expect(await frontend.refused("publish", SUBJECTS.consumerRevoked)).toBe(true);
  });
});

describe("NATS values the chart refuses or takes instead of passwords", () => {
  const fails = refusedSet;

  it("refuses TLS without its Secret, .creds files for the in-chart NATS, and passwords NATS would misread", () => {
    expect(fails("nats.tls.enabled=true")).toMatch(/nats.tls.secretName/);
    expect(fails("dev.nats.enabled=true", "nats.auth.credsSecret=x")).toMatch(/credsSecret/);
    expect(fails("nats.auth.existingSecret=a", "nats.auth.credsSecret=b")).toMatch(/credsSecret/);
    expect(fails("nats.auth.passwords.data=short")).toMatch(/passwords/);
    expect(fails(`nats.auth.passwords.data=1${"2".repeat(30)}`)).toMatch(/passwords/);
    expect(fails(`nats.auth.passwords.data=a${"b".repeat(30)}#comment`)).toMatch(/passwords/);
    expect(fails("nats.auth.users.frontend=signet-data")).toMatch(/three different users/);
  });

  it("uses given passwords and an existing Secret", () => {
    const given = `p${"q".repeat(30)}`;
    const { objects } = render(["--set", `nats.auth.passwords.frontend=${given}`]);
    expect(startEnv(objects, "frontend").NATS_PASSWORD).toBe(given);
    const own = render(["--set", "nats.auth.existingSecret=my-nats"]).objects;
    expect(own.some((o) => o.kind === "Secret" && o.metadata.name === "signet-nats")).toBe(false);
    const ref = mainContainer(own, "data").env?.find((e) => e.name === "NATS_PASSWORD")?.valueFrom
      ?.secretKeyRef;
    expect(ref).toEqual({ name: "my-nats", key: "data-password" });
  });

  it("mounts each service only its own .creds file (NATS_CREDS) when the NATS uses JWTs", () => {
    const { objects } = render(["--set", "nats.auth.credsSecret=signet-nats-creds"]);
    expect(objects.filter((o) => o.metadata.name === "signet-nats").map((o) => o.kind)).toEqual([]);
    for (const c of COMPONENTS) {
      const env = startEnv(objects, c);
      expect(env.NATS_USER, c).toBeUndefined();
      expect(env.NATS_PASSWORD, c).toBeUndefined();
      const container = mainContainer(objects, c);
      const mount = container.volumeMounts?.find((m) => env.NATS_CREDS?.startsWith(`${m.mountPath}/`));
      const pod = find<Workload>(objects, "Deployment", `signet-${c}`).spec.template.spec;
      const volume = pod.volumes?.find((v) => v.name === mount?.name);
      expect(volume?.secret, c).toEqual({
        secretName: "signet-nats-creds",
        items: [{ key: `${c}.creds`, path: path.basename(env.NATS_CREDS ?? "") }],
      });
    }
  });
});
