// The signed client against a tiny node:http server that verifies with our verifier.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSignedClient, SignetApiError } from "../src/client.js";
import { baseUrlFor, createVerifier, OAuthError } from "../src/oauth/index.js";
import { CONSUMER, MemoryNonces, memoryCredentials, TOKEN } from "./oauth/helpers.js";

let server: Server;
let baseUrl: string;
const seen: {
  method: string;
  url: string;
  requestId: string | undefined;
  contentType: string | undefined;
  body: string;
}[] = [];

const nonces = new MemoryNonces();
const withToken = createVerifier({
  credentials: memoryCredentials(),
  nonces,
  timestampWindow: 300,
  requireToken: true,
});
const consumerOnly = createVerifier({
  credentials: memoryCredentials(),
  nonces,
  timestampWindow: 300,
  requireToken: false,
});

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    ...headers,
    ...(body === undefined ? {} : { "content-type": "application/json" }),
  });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const requestId = req.headers["x-request-id"] as string | undefined;
  if (requestId) res.setHeader("x-request-id", requestId);
  seen.push({
    method: req.method!,
    url: req.url!,
    requestId,
    contentType: req.headers["content-type"],
    body: body.toString(),
  });
  const path = req.url!.split("?")[0]!;
  if (path === "/slow") return void setTimeout(() => send(res, 200, { late: true }), 1000);
  if (path === "/plain-error") {
    res.writeHead(500, { "content-type": "text/plain" });
    return void res.end("oops");
  }
  const verify = path === "/authenticate" ? consumerOnly : withToken;
  try {
    const v = await verify({
      method: req.method!,
      url: baseUrlFor({ protocol: "http", host: req.headers.host!, url: req.url! }),
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      body,
    });
    if (path === "/notes" && req.method === "POST")
      return send(res, 201, { id: 1, ...JSON.parse(body.toString()), token: v.tokenKey });
    if (path === "/me")
      return send(res, 200, { id: 7, username: "jane", query: req.url!.split("?")[1] ?? null });
    if (path === "/authenticate")
      return send(res, 200, {
        form: Object.fromEntries(new URLSearchParams(body.toString())),
        token: v.tokenKey,
      });
    if (path === "/notes/1" && req.method === "DELETE") return send(res, 204, undefined);
    if (path === "/limited")
      return send(res, 429, { error: "rate_limited", message: "slow down" }, { "retry-after": "7" });
    return send(res, 404, { error: "not_found", message: "no such thing" });
  } catch (e) {
    if (e instanceof OAuthError) {
      return send(
        res,
        e.status,
        { error: e.problem, message: e.message },
        { "www-authenticate": `OAuth realm="signet", oauth_problem="${e.problem}"` },
      );
    }
    return send(res, 500, { error: "internal", message: String(e) });
  }
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("createSignedClient", () => {
  for (const signatureMethod of ["HMAC-SHA256", "HMAC-SHA1"] as const) {
    it(`${signatureMethod}: JSON POST with token (body hash), verified by the server`, async () => {
      const client = createSignedClient({ baseUrl, consumer: CONSUMER, signatureMethod });
      const note = await client.request<{ id: number; title: string; body: string; token: string }>(
        "POST",
        "/notes",
        {
          token: TOKEN,
          json: { title: "héllo & bye", body: "☃" },
        },
      );
      expect(note).toEqual({ id: 1, title: "héllo & bye", body: "☃", token: TOKEN.key });
      expect(seen.at(-1)!.contentType).toBe("application/json");
    });
  }

  it("GET with token and query; x-request-id is propagated", async () => {
    const client = createSignedClient({ baseUrl: baseUrl + "/", consumer: CONSUMER });
    const me = await client.request<{ id: number; query: string }>("get", "/me?a=1&a=2&q=%2B%20x", {
      token: TOKEN,
      requestId: "req-123",
    });
    expect(me).toEqual({ id: 7, username: "jane", query: "a=1&a=2&q=%2B%20x" });
    expect(seen.at(-1)).toMatchObject({ method: "GET", requestId: "req-123" });
  });

  it("form POST, consumer only: the form is signed through the base string", async () => {
    const client = createSignedClient({ baseUrl, consumer: CONSUMER });
    const res = await client.request<{ form: Record<string, string>; token: string | null }>(
      "POST",
      "/authenticate",
      {
        form: { username: "jürgen", password: "p@ss word+&=" },
      },
    );
    expect(res).toEqual({ form: { username: "jürgen", password: "p@ss word+&=" }, token: null });
    expect(seen.at(-1)!.contentType).toBe("application/x-www-form-urlencoded");
  });

  it("204 → undefined", async () => {
    const client = createSignedClient({ baseUrl, consumer: CONSUMER });
    await expect(client.request("DELETE", "/notes/1", { token: TOKEN })).resolves.toBeUndefined();
  });

  it("maps {error,message} answers and oauth_problem to SignetApiError", async () => {
    const client = createSignedClient({ baseUrl, consumer: CONSUMER });
    const notFound = await client
      .request("GET", "/nothing", { token: TOKEN, requestId: "r-404" })
      .catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(SignetApiError);
    expect(notFound).toMatchObject({
      status: 404,
      code: "not_found",
      message: "no such thing",
      problem: undefined,
      requestId: "r-404",
    });

    const wrongSecret = createSignedClient({ baseUrl, consumer: { key: CONSUMER.key, secret: "wrong" } });
    const e401 = await wrongSecret.request("GET", "/me", { token: TOKEN }).catch((e: unknown) => e);
    expect(e401).toMatchObject({ status: 401, code: "signature_invalid", problem: "signature_invalid" });

    const revokedToken = await client
      .request("GET", "/me", { token: { key: "revoked-token", secret: TOKEN.secret } })
      .catch((e: unknown) => e);
    expect(revokedToken).toMatchObject({ status: 401, code: "token_revoked", problem: "token_revoked" });

    const limited = await client.request("GET", "/limited", { token: TOKEN }).catch((e: unknown) => e);
    expect(limited).toMatchObject({ status: 429, code: "rate_limited", retryAfter: 7 });

    const plain = await client.request("GET", "/plain-error").catch((e: unknown) => e);
    expect(plain).toMatchObject({ status: 500, code: "http_500" });
  });

  it("unreachable host → unavailable (503)", async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    const client = createSignedClient({ baseUrl: `http://127.0.0.1:${port}`, consumer: CONSUMER });
    const e = await client
      .request("GET", "/me", { token: TOKEN, requestId: "r-dead" })
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SignetApiError);
    expect(e).toMatchObject({ status: 503, code: "unavailable", requestId: "r-dead" });
  });

  it("timeout → unavailable (503); the caller's own abort is passed through", async () => {
    const client = createSignedClient({ baseUrl, consumer: CONSUMER, timeoutMs: 100 });
    const started = Date.now();
    const e = await client.request("GET", "/slow").catch((err: unknown) => err);
    expect(e).toMatchObject({ status: 503, code: "unavailable" });
    expect((e as Error).message).toContain("timed out");
    expect(Date.now() - started).toBeLessThan(900);

    const ac = new AbortController();
    const pending = createSignedClient({ baseUrl, consumer: CONSUMER }).request("GET", "/slow", {
      signal: ac.signal,
    });
    ac.abort(new Error("caller gave up"));
    await expect(pending).rejects.toThrow("caller gave up");
  });
});
