// `request` without an injected fetch goes over node:http on a keep-alive Agent
// (src/transport.ts): the same retries, timeouts, aborts and errors as through fetch, against a
// scripted server that counts connections and attempts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSignetClient, SignetApiError, type SignetClientOptions } from "../src/index.js";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
let connections = 0;
const seen: { method: string; url: string; authorization: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization ?? "", body });
      handler(req, res, body);
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen.length = 0;
  connections = 0;
});

const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(value));
};
const client = (options: Partial<SignetClientOptions> = {}) =>
  createSignetClient({ baseUrl, consumer: { key: "ck", secret: "cs" }, retryDelayMs: 1, ...options });
const nonceOf = (authorization: string) => /oauth_nonce="([^"]+)"/.exec(authorization)?.[1];

describe("request over node:http", () => {
  it("sends the signed request and its JSON body, parses the answer, and keeps the connection", async () => {
    handler = (req, res, body) => json(res, 200, { method: req.method, got: body ? JSON.parse(body) : null });
    const signet = client();
    const first = await signet.request("POST", "/notes?x=1", { json: { title: "☃ 😀" }, requestId: "r-1" });
    expect(first).toEqual({ method: "POST", got: { title: "☃ 😀" } });
    await expect(signet.request("GET", "/me")).resolves.toEqual({ method: "GET", got: null });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(["POST /notes?x=1", "GET /me"]);
    expect(seen[0]!.authorization).toMatch(/^OAuth oauth_body_hash="[^"]+", oauth_consumer_key="ck"/);
    expect(connections).toBe(1); // keep-alive: the second call reused the first one's connection
  });

  it("reads a UTF-8 answer whose characters are split across chunks; 204 is undefined", async () => {
    handler = (_req, res) => {
      const bytes = Buffer.from(JSON.stringify({ text: "☃ é" }));
      const cut = bytes.indexOf(Buffer.from("☃")) + 1; // inside the snowman's three bytes
      res.writeHead(200, { "content-type": "application/json", "content-length": bytes.length });
      res.write(bytes.subarray(0, cut));
      setTimeout(() => res.end(bytes.subarray(cut)), 5);
    };
    await expect(client().request("GET", "/me")).resolves.toEqual({ text: "☃ é" });
    handler = (_req, res) => res.writeHead(204).end();
    await expect(client().request("DELETE", "/notes/1")).resolves.toBeUndefined();
  });

  it("an error answer is a SignetApiError with the service's code, problem and request id", async () => {
    handler = (_req, res) =>
      json(
        res,
        401,
        { error: "token_revoked", message: "the token was revoked" },
        { "www-authenticate": 'OAuth oauth_problem="token_revoked"', "x-request-id": "srv-1" },
      );
    const error = await client()
      .request("GET", "/me")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignetApiError);
    expect(error).toMatchObject({
      status: 401,
      code: "token_revoked",
      problem: "token_revoked",
      requestId: "srv-1",
    });
  });

  it("503 is retried, each attempt re-signed with a fresh nonce", async () => {
    let refusals = 2;
    handler = (_req, res) =>
      refusals-- > 0
        ? json(res, 503, { error: "unavailable", message: "later" })
        : json(res, 201, { ok: true });
    await expect(client().request("POST", "/notes", { json: {} })).resolves.toEqual({ ok: true });
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => nonceOf(s.authorization))).size).toBe(3);
  });

  it("a dropped connection is retried for GET, never for POST", async () => {
    handler = (req) => req.socket.destroy();
    await expect(client().request("GET", "/me")).rejects.toMatchObject({ status: 503, code: "unavailable" });
    expect(seen.filter((s) => s.method === "GET")).toHaveLength(3);
    await expect(client().request("POST", "/notes", { json: {} })).rejects.toMatchObject({
      code: "unavailable",
    });
    expect(seen.filter((s) => s.method === "POST")).toHaveLength(1);
  });

  it("no answer within timeoutMs: unavailable, timed out", async () => {
    handler = () => undefined; // never answers
    await expect(client({ timeoutMs: 50, retries: 0 }).request("GET", "/me")).rejects.toMatchObject({
      status: 503,
      code: "unavailable",
      message: expect.stringContaining("timed out after 50 ms"),
    });
  });

  it("an answer cut off after its headers: unavailable, cut off", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 5);
    };
    await expect(client({ retries: 0 }).request("GET", "/me")).rejects.toMatchObject({
      status: 503,
      message: expect.stringContaining("the answer was cut off"),
    });
  });

  it("the caller's abort comes back as it was given, not as an outage", async () => {
    handler = () => undefined;
    const controller = new AbortController();
    const reason = new Error("the browser went away");
    setTimeout(() => controller.abort(reason), 20);
    await expect(client().request("GET", "/me", { signal: controller.signal })).rejects.toBe(reason);
  });
});
