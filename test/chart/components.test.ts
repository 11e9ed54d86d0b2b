// One shape for every service: the Deployments, Services, PDBs, NetworkPolicies and
// ConfigMaps of data, registry and frontend come from one template each over the list in
// _helpers.tpl ("signet.components"). What that shape must keep true: each service reads
// its own ConfigMap, holding only settings the service reads; a setting restarts only the
// services that read it (checksum/config and checksum/secret of the service's own inputs);
// the Ingress routes every ingress.hosts[].paths entry to the frontend's port and nowhere else.
import { loadDataConfig } from "@signet/data/config";
import { loadFrontendConfig } from "@signet/frontend/config";
import { loadRegistryConfig } from "@signet/registry/config";
import { describe, expect, it } from "vitest";
import { MASTER_KEY } from "@signet/test-support/keys";
import {
  type Component,
  type Render,
  COMPONENTS,
  byKind,
  deployment,
  DEV,
  find,
  ingressRoutes,
  mainContainer,
  onlyIngress,
  PROD,
  rawDocument,
  refused,
  render,
  routesToFrontend,
  secretData,
  startEnv,
} from "./helm.js";

const loaders: Record<Component, (env: Record<string, string | undefined>) => unknown> = {
  data: loadDataConfig,
  registry: loadRegistryConfig,
  frontend: loadFrontendConfig,
};

// The platform's own Secret under ci/values-prod.yaml (database.existingSecret).
const EXTERNAL_SECRETS: Record<string, string> = {
  "signet-database/DATABASE_URL": "postgres://signet@db.example.com:5432/signet",
};

describe("one ConfigMap per service", () => {
  it.each([
    { name: "default values", args: [] },
    { name: "values-dev.yaml", args: DEV },
    { name: "ci/values-prod.yaml", args: PROD },
  ])("each service takes its settings from its own ConfigMap ($name)", ({ args }) => {
    const { objects } = render(args);
    expect(
      byKind(objects, "ConfigMap")
        .map((cm) => cm.metadata.name)
        .sort(),
    ).toEqual(["signet-data", "signet-frontend", "signet-nats", "signet-registry"]);
    for (const c of COMPONENTS) {
      const container = mainContainer(objects, c);
      expect(
        container.envFrom?.map((from) => from.configMapRef?.name),
        c,
      ).toEqual([`signet-${c}`]);
      expect(container.env?.filter((e) => e.valueFrom?.configMapKeyRef) ?? [], c).toEqual([]);
      const cm = find(objects, "ConfigMap", `signet-${c}`);
      expect(cm.metadata.labels?.["app.kubernetes.io/component"], c).toBe(c);
    }
  });

  it.each([
    { name: "values-dev.yaml", args: DEV },
    { name: "ci/values-prod.yaml", args: PROD },
  ])(
    "each ConfigMap holds only settings its service reads, and the service's config loader accepts what it is given ($name)",
    ({ args }) => {
      const { objects } = render(args);
      for (const c of COMPONENTS) {
        const env = startEnv(objects, c, EXTERNAL_SECRETS);
        const read = new Set<string>();
        const watched = new Proxy(env, {
          get(target, key) {
            if (typeof key === "string") read.add(key);
            return Reflect.get(target, key) as unknown;
          },
        });
        expect(() => loaders[c](watched), c).not.toThrow();
        const keys = Object.keys(find(objects, "ConfigMap", `signet-${c}`).data ?? {});
        expect(keys.length, c).toBeGreaterThanOrEqual(5);
        expect(
          keys.filter((k) => !read.has(k)),
          `${c}: ConfigMap keys the service never reads`,
        ).toEqual([]);
      }
    },
  );
});

describe("a setting restarts only the services that read it", () => {
  type Checksum = "config" | "secret";
  const cases: {
    name: string;
    base?: string[];
    set: string[];
    restarts: Partial<Record<Component, Checksum>>;
  }[] = [
    { name: "a frontend setting", set: ["frontend.cookieSecure=false"], restarts: { frontend: "config" } },
    {
      name: "the frontend's trusted proxies",
      set: ["frontend.trustProxy=10.0.0.0/8"],
      restarts: { frontend: "config" },
    },
    { name: "a data setting", set: ["data.tokenTtl=3600"], restarts: { data: "config" } },
    {
      name: "the data public URL",
      set: ["data.publicUrl=https://data.example.com"],
      restarts: { data: "config" },
    },
    { name: "a registry setting", set: ["registry.drainDelayMs=6000"], restarts: { registry: "config" } },
    {
      name: "the session secret",
      set: [`secrets.values.sessionSecret=${"s".repeat(40)}`],
      restarts: { frontend: "secret" },
    },
    {
      name: "the admin tokens",
      set: [`secrets.values.adminTokens=ops:${"t".repeat(40)}`],
      restarts: { registry: "secret" },
    },
    {
      name: "the frontend's NATS password",
      set: [`nats.auth.passwords.frontend=f${"p".repeat(30)}`],
      restarts: { frontend: "secret" },
    },
    {
      name: "the master key",
      set: [`secrets.values.masterKey=${MASTER_KEY}`],
      restarts: { data: "secret", registry: "secret" },
    },
    {
      name: "the database URL",
      base: ["database.url=postgres://signet:first@db:5432/signet"],
      set: ["database.url=postgres://signet:second@db:5432/signet"],
      restarts: { data: "secret", registry: "secret" },
    },
    {
      name: "a setting all three read",
      set: ["nats.url=nats://nats.example.com:4222"],
      restarts: { data: "config", registry: "config", frontend: "config" },
    },
  ];
  const setArgs = (sets: string[]) => sets.flatMap((s) => ["--set", s]);
  const annotations = (r: Render, c: Component) =>
    deployment(r.objects, c).spec.template.metadata?.annotations ?? {};
  const withoutChecksums = (r: Render, c: Component) => {
    const template = structuredClone(deployment(r.objects, c).spec.template);
    delete template.metadata?.annotations?.["checksum/config"];
    delete template.metadata?.annotations?.["checksum/secret"];
    return template;
  };

  it.each(cases)("$name: $set", ({ base = [], set, restarts }) => {
    const before = render(setArgs(base));
    const after = render(setArgs([...base, ...set]));
    for (const c of COMPONENTS) {
      const changed = restarts[c];
      if (!changed) {
        // not even a byte of the Deployment (so of its pod template) moves: no rollout
        expect(rawDocument(after.raw, "Deployment", `signet-${c}`), c).toBe(
          rawDocument(before.raw, "Deployment", `signet-${c}`),
        );
        continue;
      }
      const unchanged: Checksum = changed === "config" ? "secret" : "config";
      expect(annotations(after, c)[`checksum/${changed}`], c).toMatch(/^[0-9a-f]{64}$/);
      expect(annotations(after, c)[`checksum/${changed}`], c).not.toBe(
        annotations(before, c)[`checksum/${changed}`],
      );
      expect(annotations(after, c)[`checksum/${unchanged}`], c).toBe(
        annotations(before, c)[`checksum/${unchanged}`],
      );
      // the checksum is what rolls the pods: the rest of the pod template is as it was
      expect(withoutChecksums(after, c), c).toEqual(withoutChecksums(before, c));
    }
  });

  it("keeps every pod template stable across renders (generated secrets are not hashed)", () => {
    const [a, b] = [render(DEV), render(DEV)];
    expect(secretData(a.objects, "signet").SESSION_SECRET).not.toBe(
      secretData(b.objects, "signet").SESSION_SECRET,
    );
    for (const c of COMPONENTS) {
      expect(rawDocument(b.raw, "Deployment", `signet-${c}`), c).toBe(
        rawDocument(a.raw, "Deployment", `signet-${c}`),
      );
    }
  });
});

describe("ingress.hosts[].paths", () => {
  const hosts = [
    {
      host: "signet.example.com",
      paths: [
        { path: "/", pathType: "Prefix" },
        { path: "/login", pathType: "Exact" },
      ],
    },
    { host: "auth.example.org", paths: [{ path: "/", pathType: "ImplementationSpecific" }] },
  ];

  it("routes every host and path listed, each to the frontend's port only", () => {
    const { objects } = render(["--set-json", `ingress.hosts=${JSON.stringify(hosts)}`]);
    const routes = ingressRoutes(onlyIngress(objects));
    expect(routes.map((r) => [r.host, r.path, r.pathType])).toEqual([
      ["signet.example.com", "/", "Prefix"],
      ["signet.example.com", "/login", "Exact"],
      ["auth.example.org", "/", "ImplementationSpecific"],
    ]);
    for (const route of routes) {
      expect(routesToFrontend(objects, route), `${route.host}${route.path}`).toBe(true);
      expect(route.port).toEqual({ name: "http" });
    }
  });

  it("is checked by the schema: the old ingress.host, relative paths, unknown path types, backends and empty lists are refused", () => {
    const fails = (...args: string[]) => refused(args);
    const withHosts = (value: unknown) => ["--set-json", `ingress.hosts=${JSON.stringify(value)}`];
    expect(fails("--set", "ingress.host=signet.example.com")).toMatch(/host/);
    expect(
      fails(...withHosts([{ host: "a.example.com", paths: [{ path: "login", pathType: "Prefix" }] }])),
    ).toMatch(/path/);
    expect(
      fails(...withHosts([{ host: "a.example.com", paths: [{ path: "/", pathType: "Regex" }] }])),
    ).toMatch(/pathType/);
    // a path cannot name another backend: the ingress routes only the frontend's public port
    expect(
      fails(
        ...withHosts([
          {
            host: "a.example.com",
            paths: [
              { path: "/admin", pathType: "Prefix", backend: { service: { name: "signet-registry" } } },
            ],
          },
        ]),
      ),
    ).toMatch(/backend/);
    expect(fails(...withHosts([]))).toMatch(/hosts/);
    expect(fails(...withHosts([{ host: "a.example.com", paths: [] }]))).toMatch(/paths/);
    expect(fails(...withHosts([{ host: "", paths: [{ path: "/", pathType: "Prefix" }] }]))).toMatch(/host/);
  });
});
