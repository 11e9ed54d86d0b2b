// TRUST_PROXY as the chart sets it (values.yaml, docs/kubernetes.md): the number of proxy
// hops in front of each service. The frontend sits behind one (the ingress controller): the
// client address is the one the ingress appended to X-Forwarded-For, never one the browser
// wrote; the data pods are called directly (0 hops): a forwarded header changes nothing.
// What the chart renders is loaded by the services' own config loaders and run in Fastify.
import Fastify from "fastify";
import { loadDataConfig } from "@signet/data/config";
import { loadFrontendConfig } from "@signet/frontend/config";
import type { TrustProxy } from "@signet/shared/config";
import { describe, expect, it } from "vitest";
import { DEV, PROD, effectiveEnv, refusedSet, render, startEnv } from "./helm.js";

const EXTERNAL_SECRETS = { "signet-database/DATABASE_URL": "postgres://signet@db.example.com:5432/signet" };

/** The address Fastify, with `trustProxy`, takes as the client's for a request from `peer` carrying `forwardedFor`. */
async function clientAddress(trustProxy: TrustProxy, peer: string, forwardedFor: string): Promise<string> {
  const app = Fastify({ trustProxy });
  app.get("/", async (request) => ({ ip: request.ip }));
  try {
    const res = await app.inject({
      url: "/",
      remoteAddress: peer,
      headers: { "x-forwarded-for": forwardedFor },
    });
    return (res.json() as { ip: string }).ip;
  } finally {
    await app.close();
  }
}

describe("TRUST_PROXY: proxy hops", () => {
  it.each([
    { name: "default values", args: [] },
    { name: "values-dev.yaml", args: DEV },
  ])("renders the frontend's as 1 (the ingress) and the data pods' as 0 ($name)", ({ args }) => {
    const { objects } = render(args);
    expect(effectiveEnv(objects, "frontend").get("TRUST_PROXY")?.value).toBe("1");
    expect(effectiveEnv(objects, "data").get("TRUST_PROXY")?.value).toBe("0");
  });

  it("what the services load from it: the frontend believes the ingress's entry only, the data pods none", async () => {
    const { objects } = render(PROD);
    const frontend = loadFrontendConfig(startEnv(objects, "frontend", EXTERNAL_SECRETS));
    const data = loadDataConfig(startEnv(objects, "data", EXTERNAL_SECRETS));
    // a browser writes its own X-Forwarded-For; the ingress controller (10.0.0.5) appends the real peer
    const spoofed = "6.6.6.6, 203.0.113.7";
    expect(await clientAddress(frontend.trustProxy, "10.0.0.5", spoofed)).toBe("203.0.113.7");
    expect(await clientAddress(data.trustProxy, "10.0.0.9", spoofed)).toBe("10.0.0.9");
    // what `true` (the chart's former default) did: the client picked its own address
    expect(await clientAddress(true, "10.0.0.5", spoofed)).toBe("6.6.6.6");
  });

  it("takes more hops, or proxy addresses, and refuses anything else", () => {
    const two = render(["--set", "frontend.trustProxy=2", "--set", "data.trustProxy=10.0.0.0/8"]).objects;
    expect(effectiveEnv(two, "frontend").get("TRUST_PROXY")?.value).toBe("2");
    expect(effectiveEnv(two, "data").get("TRUST_PROXY")?.value).toBe("10.0.0.0/8");
    expect(refusedSet("frontend.trustProxy=-1")).toMatch(/trustProxy/);
    expect(refusedSet("data.trustProxy=any")).toMatch(/trustProxy/);
  });
});
