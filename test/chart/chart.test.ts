// Chart checks: helm lint, helm template with the default, development and
// production-like values, Kubernetes schema validation of every object, and the policies
// the schemas cannot express (hardening, probes, secrets, selectors, routing, migrations).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type Container,
  type K8sObject,
  type Render,
  type StringMap,
  type Workload,
  byKind,
  decodeSecret,
  deployment,
  DEV,
  effectiveEnv,
  find,
  helm,
  ingressRoutes,
  onlyIngress,
  mainContainer,
  matches,
  PROD,
  refusedSet,
  render,
  repoRoot,
  requireHelm,
  routesToFrontend,
  secretData,
  validateObject,
  workloads,
} from "./helm.js";

// What the Tiltfile renders: the dev values plus sources run by tsx (live_update).
const TILT = [...DEV, "--set", "runFromSource=true"];

const scenarios: { name: string; args: string[]; dev: boolean; prod: boolean }[] = [
  { name: "default values", args: [], dev: false, prod: false },
  { name: "values-dev.yaml", args: DEV, dev: true, prod: false },
  { name: "ci/values-prod.yaml", args: PROD, dev: false, prod: true },
];

const cache = new Map<string, Render>();
function rendered(args: string[]): Render {
  const key = args.join(" ");
  let r = cache.get(key);
  if (!r) {
    r = render(args);
    cache.set(key, r);
  }
  return r;
}

// Settings that hold secrets (SIGNET_TOKEN_TTL and SIGNET_TIMESTAMP_WINDOW do not).
const SECRET_NAMES = /SECRET|PASSWORD|MASTER_KEY|ADMIN_TOKENS|CONSUMER_KEY|BOOTSTRAP_CONSUMERS|DATABASE_URL/;
const SIGNET_IMAGE = /(^|\/)signet:/;
const isSignet = (c: Container) => SIGNET_IMAGE.test(c.image);

function allContainers(w: Workload): { c: Container; init: boolean }[] {
  return [
    ...(w.spec.template.spec.initContainers ?? []).map((c) => ({ c, init: true })),
    ...w.spec.template.spec.containers.map((c) => ({ c, init: false })),
  ];
}

interface HookedJob extends Workload {
  metadata: K8sObject["metadata"];
}

it("helm is installed (scripts/install-tools.sh)", () => {
  requireHelm();
  const r = helm(["version", "--short"]);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^v[34]\./);
});

describe.each(scenarios)("chart rendered with $name", ({ args, dev, prod }) => {
  it("passes helm lint --strict", () => {
    const r = helm(["lint", "--strict", "charts/signet", ...args]);
    expect(r.stderr + r.stdout).toContain("0 chart(s) failed");
    expect(r.status).toBe(0);
  });

  it("renders only objects that validate against the Kubernetes schemas", () => {
    const { objects } = rendered(args);
    expect(objects.length).toBeGreaterThan(15);
    for (const o of objects) {
      expect(() => validateObject(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it("renders the three services, their Services, the Ingress, the HPA or fixed replicas", () => {
    const { objects } = rendered(args);
    for (const c of ["data", "registry", "frontend"]) {
      expect(deployment(objects, c).spec.template.spec.containers.map((x) => x.name)).toContain(c);
      find(objects, "Service", `signet-${c}`);
    }
    const replicas = (c: string) => deployment(objects, c).spec.replicas;
    const hpas = byKind<
      K8sObject & { spec: { minReplicas: number; scaleTargetRef: { kind: string; name: string } } }
    >(objects, "HorizontalPodAutoscaler");
    if (dev) {
      expect(hpas).toHaveLength(0);
      expect(replicas("data")).toBe(2);
      expect(replicas("frontend")).toBe(1);
      expect(replicas("registry")).toBe(1);
    } else {
      // With the HPA on, the Deployment leaves replicas to it (an upgrade must not reset the scale).
      expect(replicas("data")).toBeUndefined();
      expect(hpas).toHaveLength(1);
      expect(hpas[0]?.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: "signet-data" });
      expect(hpas[0]?.spec.minReplicas).toBe(prod ? 3 : 2);
      expect(replicas("frontend")).toBe(prod ? 3 : 2);
      expect(replicas("registry")).toBe(1);
    }
  });

  it("labels every object with the app.kubernetes.io/* set, and components", () => {
    const { objects } = rendered(args);
    for (const o of objects) {
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).toMatchObject({
        "app.kubernetes.io/name": "signet",
        "app.kubernetes.io/instance": "signet",
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/part-of": "signet",
      });
      expect(o.metadata.labels?.["helm.sh/chart"]).toMatch(/^signet-\d/);
      if (["Deployment", "StatefulSet", "Job", "Service"].includes(o.kind)) {
        expect(
          o.metadata.labels?.["app.kubernetes.io/component"],
          `${o.kind}/${o.metadata.name}`,
        ).toBeTruthy();
      }
    }
  });

  it("hardens every container: non-root, no privilege escalation, read-only root, drop ALL, RuntimeDefault, resources", () => {
    const { objects } = rendered(args);
    let count = 0;
    for (const w of workloads(objects)) {
      const pod = w.spec.template.spec;
      expect(pod.automountServiceAccountToken, `${w.kind}/${w.metadata.name}`).toBe(false);
      for (const { c } of allContainers(w)) {
        count++;
        const where = `${w.kind}/${w.metadata.name} container ${c.name}`;
        const sc = c.securityContext;
        expect(sc?.runAsNonRoot, where).toBe(true);
        expect(sc?.allowPrivilegeEscalation, where).toBe(false);
        expect(sc?.readOnlyRootFilesystem, where).toBe(true);
        expect(sc?.privileged ?? false, where).toBe(false);
        expect(sc?.capabilities?.drop, where).toContain("ALL");
        expect(sc?.capabilities?.add ?? [], where).toEqual([]);
        expect((sc?.seccompProfile ?? pod.securityContext?.seccompProfile)?.type, where).toBe(
          "RuntimeDefault",
        );
        expect(sc?.runAsUser ?? pod.securityContext?.runAsUser, where).toBeGreaterThan(0);
        for (const kind of ["requests", "limits"] as const) {
          expect(c.resources?.[kind]?.cpu, `${where} ${kind}.cpu`).toBeTruthy();
          expect(c.resources?.[kind]?.memory, `${where} ${kind}.memory`).toBeTruthy();
        }
        if (isSignet(c)) {
          expect(c.volumeMounts, `${where} mounts an emptyDir at /tmp`).toContainEqual({
            name: "tmp",
            mountPath: "/tmp",
          });
          expect(pod.volumes?.find((v) => v.name === "tmp")?.emptyDir, where).toBeDefined();
        }
      }
    }
    // data + registry (each with the migrate initContainer), frontend, the Job (+ PostgreSQL, NATS)
    expect(count).toBe(dev ? 8 : 6);
  });

  it("gives every long-running container readiness and liveness probes (the services also a startup probe)", () => {
    const { objects } = rendered(args);
    for (const w of workloads(objects).filter((x) => x.kind !== "Job")) {
      for (const c of w.spec.template.spec.containers) {
        const where = `${w.kind}/${w.metadata.name} container ${c.name}`;
        expect(c.readinessProbe, where).toBeDefined();
        expect(c.livenessProbe, where).toBeDefined();
        if (isSignet(c)) {
          expect(c.startupProbe, where).toBeDefined();
          expect(c.readinessProbe?.httpGet?.path, where).toBe("/readyz");
          expect(c.livenessProbe?.httpGet?.path, where).toBe("/healthz");
          // the probe port is a named port the container declares
          expect(
            c.ports?.map((p) => p.name),
            where,
          ).toContain(c.readinessProbe?.httpGet?.port);
        }
      }
    }
  });

  it("keeps every secret value inside Secrets: not in ConfigMaps, env values, annotations or any other object", () => {
    const { objects } = rendered(args);
    const secrets = byKind(objects, "Secret");
    const decoded = secrets.map((s) => decodeSecret(s));
    const values = decoded
      .flatMap((d) => [
        ...Object.values(d),
        // the bare tokens inside SIGNET_ADMIN_TOKENS (name:token[,name:token])
        ...(d.SIGNET_ADMIN_TOKENS ?? "").split(",").map((t) => t.split(":").slice(1).join(":")),
      ])
      .filter((v) => v.length >= 8);
    // generated secrets: admin token, session secret, consumer key/secret, master key (+ dev DB password)
    expect(values.length).toBeGreaterThanOrEqual(5);
    const elsewhere = JSON.stringify(objects.filter((o) => o.kind !== "Secret"));
    for (const v of values) {
      expect(elsewhere.includes(v), "a secret value leaks outside its Secret").toBe(false);
    }
    for (const w of workloads(objects)) {
      for (const { c } of allContainers(w)) {
        for (const e of c.env ?? []) {
          if (SECRET_NAMES.test(e.name)) {
            expect(e.value, `${w.metadata.name}/${c.name} ${e.name} must come from a Secret`).toBeUndefined();
            expect(e.valueFrom?.secretKeyRef, `${w.metadata.name}/${c.name} ${e.name}`).toBeDefined();
          }
        }
      }
    }
    for (const cm of byKind(objects, "ConfigMap")) {
      for (const k of Object.keys(cm.data ?? {})) expect(k).not.toMatch(SECRET_NAMES);
    }
  });

  it("generates well-formed application secrets and wires each service to the keys it needs", () => {
    const { objects } = rendered(args);
    const s = secretData(objects, "signet");
    expect(Buffer.from(s.SIGNET_MASTER_KEY ?? "", "base64")).toHaveLength(32);
    expect(s.SIGNET_ADMIN_TOKENS).toMatch(/^admin:[A-Za-z0-9]{32,}$/);
    expect((s.SESSION_SECRET ?? "").length).toBeGreaterThanOrEqual(32);
    expect(s.SIGNET_BOOTSTRAP_CONSUMERS).toBe(
      `frontend:${s.SIGNET_CONSUMER_KEY}:${s.SIGNET_CONSUMER_SECRET}`,
    );
    expect(s.SIGNET_CONSUMER_KEY).toMatch(/^[A-Za-z0-9]{16,}$/);

    const secretRefs = (component: string) =>
      Object.fromEntries(
        [...effectiveEnv(objects, component).values()]
          .filter((e) => e.valueFrom?.secretKeyRef)
          .map((e) => [e.name, e.valueFrom?.secretKeyRef]),
      );
    expect(Object.keys(secretRefs("frontend")).sort()).toEqual([
      "NATS_PASSWORD",
      "SESSION_SECRET",
      "SIGNET_CONSUMER_KEY",
      "SIGNET_CONSUMER_SECRET",
    ]);
    expect(Object.keys(secretRefs("data")).sort()).toEqual(
      prod || dev
        ? ["DATABASE_URL", "NATS_PASSWORD", "SIGNET_MASTER_KEY"]
        : ["NATS_PASSWORD", "SIGNET_MASTER_KEY"],
    );
    expect(Object.keys(secretRefs("registry")).sort()).toEqual(
      (prod || dev ? ["DATABASE_URL"] : []).concat([
        "NATS_PASSWORD",
        "SIGNET_ADMIN_TOKENS",
        "SIGNET_BOOTSTRAP_CONSUMERS",
        "SIGNET_MASTER_KEY",
      ]),
    );
    // each service reads its own NATS password, and only its own
    for (const c of ["data", "registry", "frontend"]) {
      expect(secretRefs(c).NATS_PASSWORD, c).toEqual({ name: "signet-nats", key: `${c}-password` });
    }
    // every reference to a chart-made Secret names a key that Secret has
    const made = new Map(byKind(objects, "Secret").map((x) => [x.metadata.name, x]));
    for (const w of workloads(objects)) {
      for (const { c } of allContainers(w)) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref) continue;
          if (prod && ref.name === "signet-database") continue; // the platform's own Secret
          expect(
            made.get(ref.name)?.data?.[ref.key],
            `${w.metadata.name}/${c.name} ${e.name} -> ${ref.name}.${ref.key}`,
          ).toBeDefined();
        }
      }
    }
  });

  it("sets the environment the contract names", () => {
    const { objects } = rendered(args);
    const env = (component: string) => {
      const m = effectiveEnv(objects, component);
      return (name: string) => m.get(name)?.value;
    };
    const data = env("data");
    const frontend = env("frontend");
    const registry = env("registry");
    const dataSvc = find<K8sObject & { spec: { ports: { port: number }[] } }>(
      objects,
      "Service",
      "signet-data",
    );
    // the frontend signs against the data Service's in-cluster URL, which is what the data pods see
    expect(frontend("DATA_URL")).toBe(`http://signet-data:${dataSvc.spec.ports[0]?.port}`);
    const publicUrl = data("SIGNET_PUBLIC_URL");
    if (publicUrl !== undefined) expect(publicUrl).toBe(frontend("DATA_URL"));
    expect(frontend("COOKIE_SECURE")).toBe(dev ? "false" : "true");
    expect(frontend("TRUST_PROXY")).toBe("1");
    expect(data("PORT")).toBe("8000");
    expect(frontend("PORT")).toBe("4444");
    expect(registry("PORT")).toBe("8001");
    for (const [component, get] of [
      ["data", data],
      ["frontend", frontend],
      ["registry", registry],
    ] as const) {
      expect(get("HOST"), component).toBe("0.0.0.0");
      const c = mainContainer(objects, component);
      expect(c.ports?.find((p) => p.name === "http")?.containerPort, component).toBe(Number(get("PORT")));
      expect(c.command, component).toEqual(["node", `services/${component}/dist/server.js`]);
      if (dev || prod) expect(get("NATS_URL"), component).toMatch(/^nats:\/\//);
    }
    if (dev) expect(data("NATS_URL")).toBe("nats://signet-nats:4222");
    // each data pod names itself in revocation confirmations
    expect(
      mainContainer(objects, "data").env?.find((e) => e.name === "POD_NAME")?.valueFrom?.fieldRef?.fieldPath,
    ).toBe("metadata.name");
  });

  it("points every Service at the pods of exactly one workload, on a port the pods declare", () => {
    const { objects } = rendered(args);
    const pods = workloads(objects).filter((w) => w.kind !== "Job");
    const services = byKind<
      K8sObject & { spec: { selector: StringMap; ports: { port: number; targetPort: string | number }[] } }
    >(objects, "Service");
    expect(services.length).toBe(dev ? 5 : 3);
    for (const svc of services) {
      const targets = pods.filter((w) => matches(svc.spec.selector, w.spec.template.metadata?.labels));
      expect(
        targets.map((t) => t.metadata.name),
        `Service/${svc.metadata.name}`,
      ).toEqual([svc.metadata.name]);
      const target = targets[0] as Workload;
      // the workload's own selector matches its pod labels too
      expect(matches(target.spec.selector?.matchLabels ?? {}, target.spec.template.metadata?.labels)).toBe(
        true,
      );
      const declared = target.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
      for (const p of svc.spec.ports) {
        expect(
          declared.some((d) => d.name === p.targetPort || d.containerPort === p.targetPort),
          `Service/${svc.metadata.name} ${p.targetPort}`,
        ).toBe(true);
      }
    }
  });

  it("routes the Ingress to the frontend Service's port", () => {
    const { objects } = rendered(args);
    const ing = onlyIngress(objects);
    expect(ing.spec.ingressClassName).toBe("nginx");
    const routes = ingressRoutes(ing);
    // ingress.hosts[].paths of the values: one host, everything under /
    expect(routes.map((r) => [r.host, r.path, r.pathType])).toEqual([
      [prod ? "signet.example.com" : "signet.localhost", "/", "Prefix"],
    ]);
    for (const route of routes) {
      const svc = find<
        K8sObject & { spec: { selector: StringMap; ports: { name: string; port: number }[] } }
      >(objects, "Service", route.service);
      expect(svc.spec.ports.some((p) => p.name === route.port.name || p.port === route.port.number)).toBe(
        true,
      );
      expect(svc.spec.selector["app.kubernetes.io/component"]).toBe("frontend");
      expect(routesToFrontend(objects, route)).toBe(true);
    }
    if (prod) expect(ing.spec.tls?.[0]).toEqual({ secretName: "signet-tls", hosts: ["signet.example.com"] });
    else expect(ing.spec.tls).toBeUndefined();
  });

  it("serves the frontend's /metrics on its own port: scraped there, admitted there only, never behind the Ingress", () => {
    const { objects } = rendered(args);
    const portOf = (c: Container, name: string) => c.ports?.find((p) => p.name === name)?.containerPort;
    const frontend = mainContainer(objects, "frontend");
    expect(portOf(frontend, "metrics")).toBe(9464);
    expect(effectiveEnv(objects, "frontend").get("METRICS_PORT")?.value).toBe("9464");
    expect(portOf(frontend, "http")).toBe(4444);
    // Prometheus is pointed at the port /metrics is on: data and registry serve it on http
    for (const c of ["data", "registry", "frontend"]) {
      const annotations = deployment(objects, c).spec.template.metadata?.annotations ?? {};
      expect(annotations["prometheus.io/scrape"], c).toBe("true");
      expect(annotations["prometheus.io/path"], c).toBe("/metrics");
      expect(Number(annotations["prometheus.io/port"]), c).toBe(
        portOf(mainContainer(objects, c), c === "frontend" ? "metrics" : "http"),
      );
    }
    // the Ingress reaches only Service ports whose target is the public http port, and no
    // Service exposes the metrics port at all
    type Svc = K8sObject & { spec: { ports: { name: string; port: number; targetPort: string | number }[] } };
    const svc = find<Svc>(objects, "Service", "signet-frontend");
    for (const route of ingressRoutes(onlyIngress(objects))) {
      const target = svc.spec.ports.find((p) => p.name === route.port.name || p.port === route.port.number);
      expect(target?.targetPort).toBe("http");
    }
    for (const s of byKind<Svc>(objects, "Service")) {
      for (const p of s.spec.ports) expect(["metrics", 9464], s.metadata.name).not.toContain(p.targetPort);
    }
    // the frontend admits the ingress controller on http only, metrics scrapers on metrics only
    type Rule = { from: { namespaceSelector?: object }[]; ports: { port: string }[] };
    const np = find<K8sObject & { spec: { ingress: Rule[] } }>(objects, "NetworkPolicy", "signet-frontend");
    const [controller, ...scrapers] = np.spec.ingress;
    expect(controller?.ports).toEqual([{ port: "http", protocol: "TCP" }]);
    expect(scrapers.map((r) => r.ports)).toEqual(prod ? [[{ port: "metrics", protocol: "TCP" }]] : []);
    const dataNp = find<K8sObject & { spec: { ingress: Rule[] } }>(objects, "NetworkPolicy", "signet-data");
    expect(dataNp.spec.ingress.flatMap((r) => r.ports.map((p) => p.port))).toEqual(
      prod ? ["http", "http"] : ["http"],
    );
  });

  it("restricts the data service to the frontend and consumer-labelled pods, the registry to the namespace", () => {
    const { objects } = rendered(args);
    type Peer = { podSelector?: { matchLabels?: StringMap }; namespaceSelector?: object };
    type NP = K8sObject & {
      spec: { podSelector: { matchLabels: StringMap }; policyTypes: string[]; ingress: { from: Peer[] }[] };
    };
    const nps = byKind<NP>(objects, "NetworkPolicy");
    const podLabels = (component: string) => deployment(objects, component).spec.template.metadata?.labels;
    const selecting = (component: string) =>
      nps.filter((np) => matches(np.spec.podSelector.matchLabels, podLabels(component)));

    const [dataNp, ...extra] = selecting("data");
    expect(extra).toHaveLength(0);
    expect(dataNp?.spec.policyTypes).toContain("Ingress");
    const peers = dataNp?.spec.ingress.flatMap((r) => r.from) ?? [];
    const frontendPods = podLabels("frontend");
    expect(peers.some((p) => matches(p.podSelector?.matchLabels ?? { none: "x" }, frontendPods))).toBe(true);
    expect(peers.some((p) => p.podSelector?.matchLabels?.["signet.dev/consumer"] === "true")).toBe(true);
    // nobody else: the registry's and a random pod's labels are not admitted
    for (const labels of [podLabels("registry"), { app: "random" }]) {
      expect(
        peers.some((p) => matches(p.podSelector?.matchLabels ?? {}, labels) && !p.namespaceSelector),
      ).toBe(false);
    }

    const [registryNp] = selecting("registry");
    expect(registryNp?.spec.ingress[0]?.from).toEqual([{ podSelector: {} }]);
    const [frontendNp] = selecting("frontend");
    expect(frontendNp?.spec.ingress[0]?.from[0]?.namespaceSelector).toBeDefined();

    if (dev) {
      for (const component of ["postgresql", "nats"]) {
        const sts = find<Workload>(objects, "StatefulSet", `signet-${component}`);
        const np = nps.find((n) =>
          matches(n.spec.podSelector.matchLabels, sts.spec.template.metadata?.labels),
        );
        const from = np?.spec.ingress[0]?.from ?? [];
        expect(
          from.some((p) => matches(p.podSelector?.matchLabels ?? {}, podLabels("data"))),
          component,
        ).toBe(true);
        expect(
          from.some((p) => matches(p.podSelector?.matchLabels ?? {}, { app: "random" })),
          component,
        ).toBe(false);
      }
    }
  });

  it("drains every Deployment before it stops: SIGNET_DRAIN_DELAY_MS inside the grace period, no exec preStop", () => {
    const { objects } = rendered(args);
    const deployments = byKind<Workload>(objects, "Deployment");
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([
      "signet-data",
      "signet-frontend",
      "signet-registry",
    ]);
    for (const d of deployments) {
      const name = d.metadata.name;
      const podSpec = d.spec.template.spec;
      for (const c of podSpec.containers.filter(isSignet)) {
        const raw = effectiveEnv(objects, c).get("SIGNET_DRAIN_DELAY_MS")?.value;
        expect(raw, `${name}/${c.name}`).toMatch(/^\d+$/);
        const drainMs = Number(raw);
        // long enough for the endpoints and the ingress to notice, within the service's own limit;
        // the dev values (Tilt on a laptop) set none, so a source change restarts at once
        expect(drainMs, name).toBeGreaterThanOrEqual(dev ? 0 : 1_000);
        expect(drainMs, name).toBeLessThanOrEqual(60_000);
        const grace = podSpec.terminationGracePeriodSeconds;
        // drain, then up to 25 s for in-flight requests (runServer's timeout), before the kubelet's SIGKILL
        expect(grace, name).toBeGreaterThan((drainMs + 25_000) / 1000);
        // the image may have no shell and the root filesystem is read-only: the delay lives in the service
        expect(c.lifecycle?.preStop?.exec, name).toBeUndefined();
      }
    }
  });

  it("has PodDisruptionBudgets that select existing pods", () => {
    const { objects } = rendered(args);
    const pdbs = byKind<K8sObject & { spec: { selector: { matchLabels: StringMap } } }>(
      objects,
      "PodDisruptionBudget",
    );
    expect(pdbs.length).toBe(dev ? 2 : 3);
    for (const pdb of pdbs) {
      const hit = workloads(objects).filter(
        (w) =>
          w.kind === "Deployment" && matches(pdb.spec.selector.matchLabels, w.spec.template.metadata?.labels),
      );
      expect(hit, `PDB/${pdb.metadata.name}`).toHaveLength(1);
    }
  });

  it("runs migrations: a hook Job in real installs, a plain Job under dev/Tilt, and before data/registry pods", () => {
    const { objects } = rendered(args);
    const job = find<HookedJob>(objects, "Job", "signet-migrate");
    const container = job.spec.template.spec.containers[0];
    expect(container?.command).toEqual(["node", "services/shared/dist/db/cli-migrate.js"]);
    const hook = job.metadata.annotations?.["helm.sh/hook"];
    if (dev) {
      expect(job.metadata.annotations?.["helm.sh/hook"]).toBeUndefined();
      expect(job.spec.template.spec.serviceAccountName).toBe("signet");
    } else {
      expect(hook?.split(",").sort()).toEqual(["pre-install", "pre-upgrade"]);
      // hooks run before the chart's ServiceAccount exists
      expect(job.spec.template.spec.serviceAccountName).toBeUndefined();
    }
    if (prod || dev)
      expect(
        effectiveEnv(objects, container as Container).get("DATABASE_URL")?.valueFrom?.secretKeyRef,
      ).toBeDefined();
    for (const component of ["data", "registry"]) {
      const init = deployment(objects, component).spec.template.spec.initContainers ?? [];
      expect(
        init.map((c) => c.command?.join(" ")),
        component,
      ).toEqual(["node services/shared/dist/db/cli-migrate.js"]);
    }
  });
});

describe("production-like values", () => {
  it("reads DATABASE_URL from the platform's existing Secret and renders no database Secret", () => {
    const { objects } = rendered(PROD);
    expect(
      byKind(objects, "Secret")
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(["signet", "signet-nats"]);
    const ref = effectiveEnv(objects, "data").get("DATABASE_URL")?.valueFrom?.secretKeyRef;
    expect(ref).toEqual({ name: "signet-database", key: "DATABASE_URL" });
    expect(byKind(objects, "StatefulSet")).toHaveLength(0);
    expect(find<Workload>(objects, "Deployment", "signet-data").spec.template.spec.containers[0]?.image).toBe(
      "registry.example.com/platform/signet:0.1.0",
    );
  });

  it("puts an external database.url into a hook Secret the pre-install migration Job can read", () => {
    const { objects } = render(["--set", "database.url=postgres://u:averysecretpassword@db:5432/signet"]);
    const s = find(objects, "Secret", "signet-database");
    expect(s.metadata.annotations?.["helm.sh/hook"]).toBe("pre-install,pre-upgrade");
    expect(Number(s.metadata.annotations?.["helm.sh/hook-weight"])).toBeLessThan(0);
    expect(JSON.stringify(objects.filter((o) => o.kind !== "Secret"))).not.toContain("averysecretpassword");
  });
});

describe("development values", () => {
  it("runs PostgreSQL 16 and NATS with JetStream in the release", () => {
    const { objects } = rendered(DEV);
    const pg = find<Workload>(objects, "StatefulSet", "signet-postgresql").spec.template.spec.containers[0];
    expect(pg?.image).toBe("postgres:16-alpine");
    const nats = find<Workload>(objects, "StatefulSet", "signet-nats").spec.template.spec.containers[0];
    expect(nats?.image).toBe("nats:2-alpine");
    // its configuration (test/chart/nats.test.ts runs it): JetStream, and the services' accounts
    expect(nats?.args).toEqual(["--config", "/etc/nats/config/nats.conf"]);
    const conf = find(objects, "ConfigMap", "signet-nats").data ?? {};
    expect(conf["nats.conf"]).toMatch(/^jetstream \{$/m);
    expect(conf["nats.conf"]).toContain("include ./accounts.conf");
    expect(nats?.volumeMounts).toContainEqual({
      name: "config",
      mountPath: "/etc/nats/config",
      readOnly: true,
    });
    const db = secretData(objects, "signet-database");
    expect(db.DATABASE_URL).toBe(`postgres://signet:${db.POSTGRES_PASSWORD}@signet-postgresql:5432/signet`);
    expect(find<Workload>(objects, "Deployment", "signet-data").spec.template.spec.containers[0]?.image).toBe(
      "localhost:5005/signet:dev",
    );
  });

  it("refuses the in-chart PostgreSQL together with a pre-install migration hook (it would deadlock)", () => {
    const r = helm(["template", "signet", "charts/signet", ...DEV, "--set", "migrations.asHook=true"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("migrations.asHook");
  });

  it("under Tilt (runFromSource) runs the sources with tsx and relaxes only the Signet containers' read-only root", () => {
    const { objects } = rendered(TILT);
    expect(mainContainer(objects, "data").command).toEqual([
      "node_modules/.bin/tsx",
      "watch",
      "--clear-screen=false",
      "--conditions=@signet/source",
      "services/data/src/server.ts",
    ]);
    expect(
      find<Workload>(objects, "Job", "signet-migrate").spec.template.spec.containers[0]?.command,
    ).toContain("services/shared/src/db/cli-migrate.ts");
    for (const w of workloads(objects)) {
      for (const { c } of allContainers(w)) {
        expect(c.securityContext?.readOnlyRootFilesystem, `${w.metadata.name}/${c.name}`).toBe(!isSignet(c));
        expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
        expect(c.securityContext?.runAsNonRoot).toBe(true);
      }
    }
  });

  it("keeps secrets stable when they are given (what the Tiltfile does, since helm template cannot lookup)", () => {
    const given = [
      "--set",
      `secrets.values.sessionSecret=s${"x".repeat(40)}`,
      "--set",
      "secrets.values.consumerKey=devfrontendkey0001",
    ];
    const a = secretData(render([...DEV, ...given]).objects, "signet");
    const b = secretData(render([...DEV, ...given]).objects, "signet");
    expect(a.SESSION_SECRET).toBe("s" + "x".repeat(40));
    expect(a.SIGNET_CONSUMER_KEY).toBe("devfrontendkey0001");
    expect(b.SESSION_SECRET).toBe(a.SESSION_SECRET);
    // what is not given is generated afresh on each render
    expect(b.SIGNET_CONSUMER_SECRET).not.toBe(a.SIGNET_CONSUMER_SECRET);
  });
});

describe("values.schema.json", () => {
  const fails = refusedSet;

  it("rejects a wrong type", () => {
    expect(fails("data.replicaCount=abc")).toMatch(/replicaCount/);
    expect(fails("frontend.cookieSecure=maybe")).toMatch(/cookieSecure/);
    expect(fails("image.pullPolicy=Sometimes")).toMatch(/pullPolicy/);
  });

  it("refuses a grace period shorter than the drain delay plus the shutdown timeout", () => {
    for (const c of ["data", "registry", "frontend"]) {
      expect(fails(`${c}.drainDelayMs=20000`, `${c}.terminationGracePeriodSeconds=40`)).toMatch(
        new RegExp(`${c}.terminationGracePeriodSeconds`),
      );
    }
    expect(fails("registry.drainDelayMs=-1")).toMatch(/drainDelayMs/);
    expect(fails("frontend.drainDelayMs=90000")).toMatch(/drainDelayMs/);
  });

  it("takes the drain delay and grace period per component", () => {
    const { objects } = render([
      "--set",
      "registry.drainDelayMs=20000",
      "--set",
      "registry.terminationGracePeriodSeconds=60",
    ]);
    const drain = (c: string) => effectiveEnv(objects, c).get("SIGNET_DRAIN_DELAY_MS")?.value;
    const grace = (c: string) => deployment(objects, c).spec.template.spec.terminationGracePeriodSeconds;
    expect([drain("registry"), grace("registry")]).toEqual(["20000", 60]);
    expect([drain("data"), grace("data")]).toEqual(["5000", 40]);
    expect([drain("frontend"), grace("frontend")]).toEqual(["5000", 40]);
  });

  it("rejects unknown keys at the levels the chart defines", () => {
    expect(fails("replicaCount=3")).toMatch(/replicaCount/);
    expect(fails("data.replica=3")).toMatch(/replica/);
    expect(fails("dev.postgresql.imag=postgres:15")).toMatch(/imag/);
  });

  it("accepts a valid override", () => {
    const r = helm([
      "template",
      "signet",
      "charts/signet",
      "--set",
      "data.replicaCount=4",
      "--set",
      "networkPolicy.enabled=false",
    ]);
    expect(r.status).toBe(0);
  });

  it("uses an existingSecret instead of generating one", () => {
    const { objects } = render(["--set", "secrets.existingSecret=my-signet"]);
    // only the NATS passwords' own Secret (nats.auth.existingSecret replaces that one)
    expect(byKind(objects, "Secret").map((x) => x.metadata.name)).toEqual(["signet-nats"]);
    const ref = effectiveEnv(objects, "frontend").get("SESSION_SECRET")?.valueFrom?.secretKeyRef;
    expect(ref).toEqual({ name: "my-signet", key: "SESSION_SECRET" });
  });
});

describe("Tiltfile", () => {
  // Tilt is not installed here; check that what the Tiltfile names exists in what it renders.
  const tiltfile = readFileSync(join(repoRoot, "Tiltfile"), "utf8");

  it("renders the chart with values-dev.yaml and runFromSource, and builds the dev target", () => {
    expect(tiltfile).toMatch(
      /helm\(\s*'charts\/signet',\s*name='signet',\s*values=\['charts\/signet\/values-dev.yaml'/,
    );
    expect(tiltfile).toContain("set=['runFromSource=true']");
    expect(tiltfile).toContain("target='dev'");
    expect(tiltfile).toContain("run('npm ci', trigger=['package-lock.json'])");
    const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM .* AS dev$/m);
    // the image Tilt builds is the one the dev values reference
    const { objects } = rendered(TILT);
    expect(mainContainer(objects, "data").image.startsWith("localhost:5005/signet:")).toBe(true);
  });

  it("names only workloads and objects the dev render contains, and forwards to declared ports", () => {
    const { objects } = rendered(TILT);
    const names = [...tiltfile.matchAll(/k8s_resource\(\s*'([^']+)'/g)].map((m) => m[1] as string);
    expect(names.sort()).toEqual(
      [
        "signet-data",
        "signet-frontend",
        "signet-migrate",
        "signet-nats",
        "signet-postgresql",
        "signet-registry",
      ].sort(),
    );
    const ws = workloads(objects);
    for (const n of names)
      expect(
        ws.filter((w) => w.metadata.name === n),
        n,
      ).toHaveLength(1);

    const selectors = [...tiltfile.matchAll(/'([a-z0-9-]+):([a-z]+)'/g)].map((m) => [
      m[1] as string,
      m[2] as string,
    ]);
    expect(selectors.length).toBeGreaterThan(5);
    for (const [name, kind] of selectors) {
      const hits = objects.filter((o) => o.metadata.name === name && o.kind.toLowerCase() === kind);
      expect(hits, `${name}:${kind}`).toHaveLength(1);
    }

    const forwards = Object.fromEntries(
      [...tiltfile.matchAll(/k8s_resource\(\s*'([^']+)',\s*port_forwards=\['(\d+):(\d+)'\]/g)].map((m) => [
        m[1],
        [Number(m[2]), Number(m[3])],
      ]),
    );
    expect(forwards).toEqual({
      "signet-data": [8000, 8000],
      "signet-registry": [8001, 8001],
      "signet-frontend": [4444, 4444],
    });
    for (const [name, [, container]] of Object.entries(forwards) as [string, number[]][]) {
      const w = find<Workload>(objects, "Deployment", name);
      expect(w.spec.template.spec.containers[0]?.ports?.map((p) => p.containerPort)).toContain(container);
    }
  });
});
