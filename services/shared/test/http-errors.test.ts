// The JSON APIs' error shape (http/errors.ts; docs/api.md, "Error shape"): what PostgreSQL
// refuses as a value is 400 invalid_input, not a 500; what Fastify refuses before routing
// (a URL that does not decode) and query strings that break the parameter rules answer
// {"error","message"} too.
import Fastify, { type FastifyInstance } from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { installErrorHandlers, jsonFrameworkErrors } from "../src/http/errors.js";

const tdb = useTestDatabase();
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify({ logger: false, frameworkErrors: jsonFrameworkErrors });
  installErrorHandlers(app);
  // values no schema stopped, sent to PostgreSQL as they are
  const values: Record<string, () => Promise<unknown>> = {
    "nul-in-text": () => sql`select ${"a\u0000b"}::text`.execute(tdb.db),
    "nul-in-jsonb": () => sql`select ${JSON.stringify({ reason: "a\u0000b" })}::jsonb`.execute(tdb.db),
    "not-a-uuid": () => sql`select ${"x"}::uuid`.execute(tdb.db),
    "bad-date": () => sql`select ${"2026-13-45"}::timestamptz`.execute(tdb.db),
    "a-bug": () => sql`select * from no_such_table`.execute(tdb.db),
  };
  app.get<{ Params: { what: string } }>("/db/:what", async (request) => {
    await values[request.params.what]!();
    return { ok: true };
  });
  app.get("/echo", async (request) => request.query);
  await app.ready();
});
afterAll(async () => {
  await app?.close();
});

describe("PostgreSQL's refusals of a value", () => {
  it.each(["nul-in-text", "nul-in-jsonb", "not-a-uuid", "bad-date"])(
    "%s → 400 invalid_input",
    async (what) => {
      const res = await app.inject({ method: "GET", url: `/db/${what}` });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toEqual({ error: "invalid_input", message: expect.any(String) });
    },
  );

  it("any other database error stays a 500 (a bug is not bad input)", async () => {
    const res = await app.inject({ method: "GET", url: "/db/a-bug" });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: "internal", message: "internal error" });
  });
});

describe("before any route", () => {
  it("a URL that cannot be percent-decoded → 400 in the error shape, without echoing it", async () => {
    for (const url of ["/%ZZ", "/db/%E0%A4%A", "/%"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode).toBe(400);
      expect(res.headers["content-type"]).toContain("application/json");
      expect(res.json()).toEqual({
        error: "invalid_input",
        message: "the request URL cannot be percent-decoded",
      });
    }
  });

  it("a query with more than 100 parameters, a repeated name or a control character → 400", async () => {
    const params = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=${i}`).join("&");
    expect((await app.inject({ method: "GET", url: `/echo?${params(100)}` })).statusCode).toBe(200);
    for (const query of [
      params(101),
      "a=1&a=2",
      "a=1&%61=2",
      "a+b=1&a%20b=2",
      "a=%00",
      "q=%E2%80%AE",
      "%C2%9B=1",
    ]) {
      const res = await app.inject({ method: "GET", url: `/echo?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error).toBe("invalid_input");
    }
  });
});
