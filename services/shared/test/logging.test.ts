// The per-request child logger of serverOptions (src/logging.ts): bound to the request id
// without pino's redaction pass over it, still redacting what a handler logs, and a route's
// own log level still honoured (that child takes pino's path).
import { Writable } from "node:stream";
import Fastify from "fastify";
import { afterAll, expect, it } from "vitest";
import { serverOptions } from "../src/logging.js";

const lines: Record<string, unknown>[] = [];
const stream = new Writable({
  write(chunk, _encoding, callback) {
    for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
    callback();
  },
});
const app = Fastify(serverOptions("probe", "info", { stream }, {}));
app.get("/hello", async (req) => {
  req.log.info({ body: { password: "pw-1" }, secret: "top-1", note: "kept" }, "hello");
  return { ok: true };
});
app.get("/quiet", { logLevel: "error" }, async (req) => {
  req.log.info("not logged: the route logs errors only");
  req.log.error("logged");
  return { ok: true };
});
afterAll(() => app.close());

it("binds the request id to every line of the request, and redacts what the handler logs", async () => {
  const res = await app.inject({ url: "/hello", headers: { "x-request-id": "probe-req-1" } });
  expect(res.statusCode).toBe(200);
  const hello = lines.find((l) => l.msg === "hello")!;
  expect(hello).toMatchObject({ name: "probe", reqId: "probe-req-1", note: "kept", secret: "[redacted]" });
  expect(hello.body).toEqual({ password: "[redacted]" });
  // Fastify's own request lines carry the same id
  expect(lines.filter((l) => l.reqId === "probe-req-1").map((l) => l.msg)).toEqual(
    expect.arrayContaining(["incoming request", "hello", "request completed"]),
  );
  expect(JSON.stringify(lines)).not.toMatch(/pw-1|top-1/);
});

it("a generated request id is bound too, and a route's log level still applies", async () => {
  lines.length = 0;
  await app.inject({ url: "/quiet" });
  expect(lines.map((l) => l.msg)).toEqual(["logged"]);
  expect(lines[0]!.reqId).toMatch(/^[0-9a-f-]{36}$/);
});
