// plugins/oauth.ts failClosed: a route that declares config.oauth but was declared where the
// oauth plugin cannot give it the check (before it) makes ready() throw, naming the route —
// instead of a signed route that answers unsigned requests. The data app itself is ready
// (every route after the plugin): server.test.ts and the contract tests build it.
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { failClosed } from "../src/plugins/oauth.js";

describe("failClosed", () => {
  it("a route with config.oauth and no OAuth check: ready() throws and names it", async () => {
    const app = Fastify();
    failClosed(app);
    app.get("/open", { config: { oauth: { token: true } } }, async () => ({ secret: "x" }));
    await expect(app.ready()).rejects.toThrow(/GET \/open/);
  });

  it("routes without config.oauth, or whose first preValidation is not the check, are told apart", async () => {
    const plain = Fastify();
    failClosed(plain);
    plain.get("/healthz", async () => ({ ok: true }));
    await expect(plain.ready()).resolves.toBeDefined();
    await plain.close();

    const lookalike = Fastify();
    failClosed(lookalike);
    lookalike.get(
      "/me",
      { config: { oauth: { token: true } }, preValidation: [async () => undefined] },
      async () => ({}),
    );
    await expect(lookalike.ready()).rejects.toThrow(/GET \/me/);
  });
});
