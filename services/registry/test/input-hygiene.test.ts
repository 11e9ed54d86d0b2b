// The admin API's input hygiene (docs/api.md, "Limits", "Error shape"): control characters in
// any name or free-text field, too many or repeated query parameters and malformed URLs are
// 400 in the JSON error shape — never a 500, never a silent no-op — and nothing changes.
import { describe, expect, it } from "vitest";
import type { LightMyRequestResponse } from "fastify";
import { findConsumer } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { auth, useRegistry } from "./helpers.js";

const tdb = useTestDatabase();
const registry = useRegistry(tdb, { config: { confirmWindowMs: 100 } });

const CONTROLS = ["\u0000", "\u0007", "\u001b[2J", "\u007f", "\u0085", "\u009b", "\u202e", "\u2066"];

function expectInvalidInput(res: LightMyRequestResponse) {
  expect(res.statusCode, res.body).toBe(400);
  expect(res.headers["content-type"]).toContain("application/json");
  expect(res.json()).toEqual({ error: "invalid_input", message: expect.any(String) });
}

const post = (url: string, payload: object) =>
  registry.inject({ method: "POST", url, headers: auth(), payload });

async function newConsumer(name = `svc-${Math.random().toString(36).slice(2)}`) {
  const res = await post("/consumers", { name, scopes: ["*"] });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { key: string };
}

describe("control characters: C0, DEL, C1, bidi controls", () => {
  it("a NUL (or any control) in a revoke reason → 400, and the consumer stays active", async () => {
    const { key } = await newConsumer();
    for (const c of CONTROLS) {
      expectInvalidInput(await post(`/consumers/${key}/revoke`, { reason: `gone${c}for good` }));
    }
    expect((await findConsumer(tdb.db, key))?.status).toBe("active");
    // a reason without one revokes
    expect((await post(`/consumers/${key}/revoke`, { reason: "gone for good" })).statusCode).toBe(200);
  });

  it.each(CONTROLS.map((c) => [JSON.stringify(c), c]))(
    "%s in a consumer's name, a display name, a username or key in the path → 400",
    async (_label, c) => {
      expectInvalidInput(await post("/consumers", { name: `svc${c}x`, scopes: ["*"] }));
      expectInvalidInput(
        await post("/users", { username: "ctrl-user", password: "password123", display_name: `Eve${c}` }),
      );
      const inPath = encodeURIComponent(`a${c}b`);
      expectInvalidInput(await post(`/users/${inPath}/disable`, {}));
      expectInvalidInput(await post(`/consumers/${inPath}/revoke`, { reason: "x" }));
    },
  );

  it("a line break or tab in a single-line field → 400; other text (unicode) is fine", async () => {
    for (const c of ["\n", "\r", "\t"]) {
      expectInvalidInput(await post("/consumers", { name: `two${c}lines`, scopes: ["*"] }));
    }
    const { key } = await newConsumer("Zürich ☃ 東京");
    expect((await findConsumer(tdb.db, key))?.name).toBe("Zürich ☃ 東京");
  });
});

describe("query parameters", () => {
  it("more than 100 → 400 before authentication; a repeated name → 400; a control character → 400", async () => {
    const many = Array.from({ length: 101 }, (_, i) => `p${i}=1`).join("&");
    expectInvalidInput(await registry.inject({ method: "GET", url: `/audit?${many}` }));
    const repeated = await registry.inject({ method: "GET", url: "/audit?limit=1&limit=2", headers: auth() });
    expectInvalidInput(repeated);
    expect(repeated.json().message).toContain('"limit" is sent more than once');
    expectInvalidInput(await registry.inject({ method: "GET", url: "/audit?x=%1B", headers: auth() }));
    expect(
      (await registry.inject({ method: "GET", url: "/audit?limit=1", headers: auth() })).statusCode,
    ).toBe(200);
  });
});

describe("malformed URLs", () => {
  it.each(["/%ZZ", "/consumers/%E0%A4%A", "/users/%"])("%s → 400 in the JSON error shape", async (url) => {
    expectInvalidInput(await registry.inject({ method: "GET", url, headers: auth() }));
  });
});

describe("instants at the edges of the calendar", () => {
  // date-time strings that are well formed but name a year PostgreSQL or JavaScript cannot hold
  const EDGES = [
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
  ];

  it.each(EDGES)("expires_at %s on create and PATCH → 201/200 or 400, never a 500", async (at) => {
    const created = await post("/consumers", {
      name: `edge-${Math.random().toString(36).slice(2)}`,
      scopes: ["*"],
      expires_at: at,
    });
    expect([201, 400], created.body).toContain(created.statusCode);
    const { key } = await newConsumer();
    const patched = await registry.inject({
      method: "PATCH",
      url: `/consumers/${key}`,
      headers: auth(),
      payload: { expires_at: at },
    });
    expect([200, 400], patched.body).toContain(patched.statusCode);
  });

  it.each(EDGES)("revoke-all before %s → 200 in the past, 400 in the future, never a 500", async (at) => {
    const res = await post("/revoke-all", { issued_before: at, reason: "edge" });
    expect(res.statusCode, res.body).toBe(Date.parse(at) > Date.now() ? 400 : 200);
  });
});
