// The Tilt loop as docs/kubernetes.md describes it: the dev values set no drain delay (a
// source change restarts at once), Tilt finds the helm `npm ci` fetched, deploys into one
// namespace (SIGNET_NAMESPACE, default signet) and keeps its secrets apart from npm start's.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMPONENTS, DEV, find, render, repoRoot, type K8sObject } from "./helm.js";

type ConfigMapObject = K8sObject & { data: Record<string, string> };

const tiltfile = readFileSync(join(repoRoot, "Tiltfile"), "utf8");

describe("the Tilt loop", () => {
  it("values-dev.yaml: no drain delay for any service (production keeps its 5 s)", () => {
    const dev = render([...DEV, "--set", "runFromSource=true"]).objects;
    const prod = render().objects;
    for (const component of COMPONENTS) {
      const name = `signet-${component}`;
      expect(find<ConfigMapObject>(dev, "ConfigMap", name).data.SIGNET_DRAIN_DELAY_MS, component).toBe("0");
      expect(find<ConfigMapObject>(prod, "ConfigMap", name).data.SIGNET_DRAIN_DELAY_MS, component).toBe(
        "5000",
      );
    }
  });

  it("the Tiltfile puts .tools/bin first on its PATH before helm() runs", () => {
    const putenv = tiltfile.indexOf("os.putenv('PATH', TOOLS_BIN + ':'");
    expect(tiltfile).toContain("TOOLS_BIN = os.path.abspath('.tools/bin')");
    expect(putenv).toBeGreaterThan(0);
    expect(putenv).toBeLessThan(tiltfile.indexOf("helm(\n"));
  });

  it("deploys every object into NAMESPACE (SIGNET_NAMESPACE, default signet), created by Tilt", () => {
    expect(tiltfile).toContain("NAMESPACE = os.getenv('SIGNET_NAMESPACE', 'signet')");
    expect(tiltfile).toContain("namespace_create(NAMESPACE)");
    expect(tiltfile).toMatch(/namespace=NAMESPACE,\s*\)\)/);
    expect(tiltfile).toContain("obj['metadata']['namespace'] = NAMESPACE");
  });

  it("keeps its secrets in .signet/tilt/, apart from npm start's .signet/local/", () => {
    expect(tiltfile).toContain("SECRETS_FILE = '.signet/tilt/secrets.yaml'");
    expect(tiltfile).toContain("NATS_SECRETS_FILE = '.signet/tilt/nats.yaml'");
    const start = readFileSync(join(repoRoot, "scripts/start.ts"), "utf8");
    expect(start).toContain('env.SIGNET_HOME ?? ".signet/local"');
  });

  it("its forwards (4444, 8000, 8001) and the runbook's tunnel (18001) do not collide", () => {
    const forwards = [...tiltfile.matchAll(/port_forwards=\['(\d+):\d+'\]/g)].map((m) => m[1]);
    expect(forwards.sort()).toEqual(["4444", "8000", "8001"]);
    const runbook = readFileSync(join(repoRoot, "docs/kubernetes.md"), "utf8");
    const tunnels = [...runbook.matchAll(/port-forward svc\/\S+ (\d+):\d+/g)].map((m) => m[1]);
    expect(tunnels.length).toBeGreaterThan(0);
    for (const local of tunnels) expect(forwards).not.toContain(local);
    expect(runbook).not.toMatch(/kubectl -n signet\b/);
    expect(runbook).not.toMatch(/npx signetctl/);
  });
});
