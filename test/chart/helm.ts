// Runs the helm binary that scripts/install-tools.sh puts in .tools/bin and turns
// `helm template` output into plain objects, each validated against the Kubernetes
// OpenAPI schemas by kubernetes-models.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";
import { ConfigMap, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const chartDir = join(repoRoot, "charts/signet");
export const helmBin = join(repoRoot, ".tools/bin/helm");
/** helm arguments for the development values and for the production-like CI values. */
export const DEV = ["-f", "charts/signet/values-dev.yaml"];
export const PROD = ["-f", "charts/signet/ci/values-prod.yaml"];

/** Missing helm is a failure, never a skip (also when CI is set). */
export function requireHelm(): void {
  if (!existsSync(helmBin)) {
    throw new Error(
      `helm not found at ${helmBin}: run \`bash scripts/install-tools.sh\` (npm ci does it through postinstall)` +
        (process.env.CI ? " — CI must install it, chart tests never skip" : ""),
    );
  }
}

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  requireHelm();
  const r = spawnSync(helmBin, args, { cwd: repoRoot, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The three services, in the chart's order ("signet.components"). */
export const COMPONENTS = ["data", "registry", "frontend"] as const;
export type Component = (typeof COMPONENTS)[number];

/** `helm template` with these arguments must fail: its stderr (the reason), or an error when it rendered. */
export function refused(args: string[]): string {
  const r = helm(["template", "signet", "charts/signet", ...args]);
  if (r.status === 0)
    throw new Error(`helm template ${args.join(" ")} rendered; it should have been refused`);
  return r.stderr;
}

/** `refused` with `--set` values. */
export const refusedSet = (...set: string[]) => refused(set.flatMap((s) => ["--set", s]));

// ---- the slice of the Kubernetes object model the checks read ------------------------

export type StringMap = Record<string, string>;

export interface Metadata {
  name: string;
  namespace?: string;
  labels?: StringMap;
  annotations?: StringMap;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: StringMap; limits?: StringMap };
  securityContext?: SecurityContext;
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: object; httpGet?: object; sleep?: object } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext & { fsGroup?: number };
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  volumes?: {
    name: string;
    emptyDir?: object;
    configMap?: { name: string };
    secret?: { secretName: string; items?: { key: string; path: string }[] };
  }[];
  terminationGracePeriodSeconds?: number;
}

export interface PodTemplate {
  metadata?: { labels?: StringMap; annotations?: StringMap };
  spec: PodSpec;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  // The checks narrow these by kind.
  spec?: Record<string, unknown>;
  data?: StringMap;
}

export interface Workload extends K8sObject {
  kind: "Deployment" | "StatefulSet" | "Job";
  spec: { replicas?: number; selector?: { matchLabels?: StringMap }; template: PodTemplate };
}

export interface IngressObject extends K8sObject {
  kind: "Ingress";
  spec: {
    ingressClassName?: string;
    tls?: { hosts: string[]; secretName: string }[];
    rules: {
      host: string;
      http: {
        paths: {
          path: string;
          pathType: string;
          backend: { service: { name: string; port: { name?: string; number?: number } } };
        }[];
      };
    }[];
  };
}

/** The one Ingress rendered (an error when there are none or several). */
export function onlyIngress(objects: K8sObject[]): IngressObject {
  const ingresses = byKind<IngressObject>(objects, "Ingress");
  if (ingresses.length !== 1) throw new Error(`${ingresses.length} Ingresses rendered, not one`);
  return ingresses[0]!;
}

/** Every host + path an Ingress routes, with the Service port it routes to. */
export function ingressRoutes(ing: IngressObject): {
  host: string;
  path: string;
  pathType: string;
  service: string;
  port: { name?: string; number?: number };
}[] {
  return ing.spec.rules.flatMap((rule) =>
    rule.http.paths.map((p) => ({
      host: rule.host,
      path: p.path,
      pathType: p.pathType,
      service: p.backend.service.name,
      port: p.backend.service.port,
    })),
  );
}

/** True when the route goes to a port of a Service that selects the frontend pods. */
export function routesToFrontend(
  objects: K8sObject[],
  route: ReturnType<typeof ingressRoutes>[number],
): boolean {
  const svc = objects.find((o) => o.kind === "Service" && o.metadata.name === route.service) as
    (K8sObject & { spec: { selector: StringMap; ports: { name: string; port: number }[] } }) | undefined;
  if (!svc) return false;
  const port = svc.spec.ports.some((p) => p.name === route.port.name || p.port === route.port.number);
  return port && svc.spec.selector["app.kubernetes.io/component"] === "frontend";
}

const models: Record<string, new (data: never) => { validate(): void }> = {
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "batch/v1/Job": Job,
  "networking.k8s.io/v1/Ingress": Ingress,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
};

/** Validates one object against its Kubernetes schema; an unknown apiVersion/kind is an error too. */
export function validateObject(obj: K8sObject): void {
  const Model = models[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) throw new Error(`no schema for ${obj.apiVersion}/${obj.kind} (${obj.metadata?.name})`);
  new Model(obj as never).validate();
}

export interface Render {
  objects: K8sObject[];
  raw: string;
}

/** `helm template signet charts/signet <args>`; throws with helm's stderr when it fails. */
export function render(args: string[] = []): Render {
  const r = helm(["template", "signet", chartDir, "--namespace", "signet", ...args]);
  if (r.status !== 0) throw new Error(`helm template ${args.join(" ")} failed:\n${r.stderr}`);
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(r.stdout)) {
    if (doc.errors.length) throw new Error(`unparsable helm output: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) objects.push(value as K8sObject);
  }
  return { objects, raw: r.stdout };
}

// ---- look-ups -----------------------------------------------------------------------

export function byKind<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

export function find<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered`);
  return found as T;
}

/** The Deployment of one of the three services (signet-<component>). */
export function deployment(objects: K8sObject[], component: string): Workload {
  return find<Workload>(objects, "Deployment", `signet-${component}`);
}

/** The service's own container in its Deployment. */
export function mainContainer(objects: K8sObject[], component: string): Container {
  const c = deployment(objects, component).spec.template.spec.containers.find((x) => x.name === component);
  if (!c) throw new Error(`no ${component} container`);
  return c;
}

/** The text of one rendered document exactly as helm printed it (for byte-for-byte comparisons). */
export function rawDocument(raw: string, kind: string, name: string): string {
  const hits = raw.split(/^---$/m).filter((text) => {
    const value = parse(text) as Partial<K8sObject> | null;
    return value?.kind === kind && value.metadata?.name === name;
  });
  if (hits.length !== 1) throw new Error(`${kind}/${name} rendered ${hits.length} times`);
  return hits[0] as string;
}

export function workloads(objects: K8sObject[]): Workload[] {
  return objects.filter((o) => ["Deployment", "StatefulSet", "Job"].includes(o.kind)) as Workload[];
}

export function matches(selector: StringMap, labels: StringMap | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/**
 * The env a container ends up with: its ConfigMaps (envFrom) overlaid by env values. Given a
 * component's name, its main container's.
 */
export function effectiveEnv(objects: K8sObject[], container: Container | string): Map<string, EnvVar> {
  const c = typeof container === "string" ? mainContainer(objects, container) : container;
  const env = new Map<string, EnvVar>();
  for (const from of c.envFrom ?? []) {
    if (!from.configMapRef) continue;
    const cm = find(objects, "ConfigMap", from.configMapRef.name);
    for (const [name, value] of Object.entries(cm.data ?? {})) env.set(name, { name, value });
  }
  for (const e of c.env ?? []) env.set(e.name, e);
  return env;
}

export function decodeSecret(secret: K8sObject): StringMap {
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
  );
}

/** The decoded data of the rendered Secret `name`. */
export function secretData(objects: K8sObject[], name: string): StringMap {
  return decodeSecret(find(objects, "Secret", name));
}

/**
 * The environment a container starts with: its ConfigMaps and env values, Secret keys resolved
 * from the rendered Secrets (or `external`, "secret/key" → value, for Secrets the platform
 * brings) and metadata.name as a pod name. Given a component's name, its main container's.
 */
export function startEnv(
  objects: K8sObject[],
  container: Container | string,
  external: StringMap = {},
): StringMap {
  const secrets = new Map(byKind(objects, "Secret").map((s) => [s.metadata.name, decodeSecret(s)]));
  const name = typeof container === "string" ? container : container.name;
  const env: StringMap = {};
  for (const e of effectiveEnv(objects, container).values()) {
    const ref = e.valueFrom?.secretKeyRef;
    const value =
      e.value ??
      (ref && (secrets.get(ref.name)?.[ref.key] ?? external[`${ref.name}/${ref.key}`])) ??
      (e.valueFrom?.fieldRef?.fieldPath === "metadata.name" ? `signet-${name}-7d9f8-abcde` : undefined);
    if (value === undefined) throw new Error(`${name}: cannot resolve ${e.name}`);
    env[e.name] = value;
  }
  return env;
}
