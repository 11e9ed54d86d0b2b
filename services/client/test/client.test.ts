// The client against a live data pod (real PostgreSQL): consumer-only and consumer + token
// calls, JSON and form bodies, both signature methods, SIGNET_PUBLIC_URL, the clock-skew
// error, and retries (each one re-signed) on 503.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import {
  createSignetClient,
  SignetApiError,
  SignetClockSkewError,
  type SignetClientOptions,
} from "../src/index.js";

const tdb = useTestDatabase();
const { pod, consumer, user, token } = useDataPod(tdb);

const client = (options: Partial<SignetClientOptions> = {}) =>
  createSignetClient({ baseUrl: pod.url, consumer, ...options });

interface Note {
  id: string;
  title: string;
  body: string;
}

const noteInDatabase = (id: string) =>
  tdb.db.selectFrom("notes").select(["title", "body"]).where("id", "=", id).executeTakeFirst();

const nonceOf = (authorization: string) => /oauth_nonce="([^"]+)"/.exec(authorization)?.[1];

describe("createSignetClient against a data pod", () => {
  for (const signatureMethod of ["HMAC-SHA256", "HMAC-SHA1"] as const) {
    it(`${signatureMethod}: log in (consumer only, form), GET /me and POST /notes (JSON) with the token`, async () => {
      const signet = client({ signatureMethod });
      const login = await signet.request<{ token: string; secret: string; user: { username: string } }>(
        "POST",
        "/authenticate",
        { form: { username: user.username, password: user.password } },
      );
      expect(login.user.username).toBe(user.username);
      const userToken = { key: login.token, secret: login.secret };
      const me = await signet.request<{ username: string }>("GET", "/me", { token: userToken });
      expect(me.username).toBe(user.username);
      const note = await signet.request<Note>("POST", "/notes", {
        token: userToken,
        json: { title: "héllo & bye", body: "☃ 😀 + %2B" },
      });
      expect(await noteInDatabase(note.id)).toEqual({ title: "héllo & bye", body: "☃ 😀 + %2B" });
      await expect(signet.request("POST", "/logout", { token: userToken })).resolves.toBeUndefined();
      await expect(signet.request("GET", "/me", { token: userToken })).rejects.toMatchObject({
        status: 401,
        problem: "token_revoked",
      });
    });
  }

  it("fetch: raw bytes with a content type of the caller's (body hash), a query, a Response back", async () => {
    const signet = client();
    const res = await signet.fetch("/notes", {
      method: "POST",
      token,
      headers: { "content-type": "application/json" },
      body: new TextEncoder().encode(JSON.stringify({ title: "bytes", body: "b" })),
    });
    expect(res.status).toBe(201);
    const note = (await res.json()) as Note;
    const list = await signet.fetch("/notes?limit=1&q=bytes", { token });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { notes: Note[] }).notes.map((n) => n.id)).toEqual([note.id]);
  });

  it("a wrong secret is a SignetApiError naming signature_invalid", async () => {
    const signet = client({ consumer: { key: consumer.key, secret: "not-the-secret" } });
    const error = await signet.request("GET", "/me", { token }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignetApiError);
    expect(error).toMatchObject({ status: 401, code: "signature_invalid", problem: "signature_invalid" });
  });

  it("timestamp_refused: a SignetClockSkewError that names the skew measured from the Date header", async () => {
    const signet = client({ now: () => Date.now() - 600_000, retries: 0 });
    const sent = Date.now();
    const error = (await signet
      .request("GET", "/me", { token })
      .catch((e: unknown) => e)) as SignetClockSkewError;
    const took = Math.ceil((Date.now() - sent) / 1000);
    expect(error).toBeInstanceOf(SignetClockSkewError);
    expect(error.code).toBe("timestamp_refused");
    // the Date header has a resolution of 1 s, and the answer may take a while on a busy machine
    expect(error.skewSeconds).toBeGreaterThanOrEqual(599);
    expect(error.skewSeconds).toBeLessThanOrEqual(601 + took);
    expect(error.message).toContain(`this machine's clock is ${error.skewSeconds} s behind the service's`);
    expect(error.message).toContain("NTP");

    const ahead = client({ now: () => Date.now() + 900_000 });
    const aheadError = (await ahead
      .request("GET", "/me", { token })
      .catch((e: unknown) => e)) as SignetClockSkewError;
    expect(aheadError.skewSeconds).toBeGreaterThanOrEqual(-901);
    expect(aheadError.skewSeconds).toBeLessThanOrEqual(-850);
    expect(aheadError.message).toContain(
      `this machine's clock is ${-aheadError.skewSeconds!} s ahead of the service's`,
    );
  });

  it("503: retried with backoff, every attempt re-signed with a fresh nonce, for POST too", async () => {
    const sent: string[] = [];
    let refusals = 2;
    const signet = client({
      retryDelayMs: 1,
      fetch: async (url, init) => {
        sent.push(new Headers(init?.headers).get("authorization")!);
        if (refusals-- > 0)
          return new Response(JSON.stringify({ error: "unavailable", message: "database unreachable" }), {
            status: 503,
            headers: { "content-type": "application/json" },
          });
        return fetch(url, init);
      },
    });
    const note = await signet.request<Note>("POST", "/notes", {
      token,
      json: { title: "retried", body: "x" },
    });
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map(nonceOf)).size).toBe(3);
    expect(await noteInDatabase(note.id)).toEqual({ title: "retried", body: "x" });
    const notes = await tdb.db.selectFrom("notes").select("id").where("title", "=", "retried").execute();
    expect(notes).toHaveLength(1);
  });

  it("503 that outlasts the retries (or asks for a longer Retry-After) reaches the caller as unavailable", async () => {
    let calls = 0;
    const unavailable = (retryAfter?: string) =>
      client({
        retries: 2,
        retryDelayMs: 1,
        fetch: async () => {
          calls++;
          return new Response(JSON.stringify({ error: "unavailable", message: "try later" }), {
            status: 503,
            headers: {
              "content-type": "application/json",
              ...(retryAfter ? { "retry-after": retryAfter } : {}),
            },
          });
        },
      });
    await expect(unavailable().request("GET", "/me", { token })).rejects.toMatchObject({
      status: 503,
      code: "unavailable",
    });
    expect(calls).toBe(3);
    calls = 0;
    await expect(unavailable("30").request("GET", "/me", { token })).rejects.toMatchObject({
      retryAfter: 30,
    });
    expect(calls).toBe(1);
  });

  it("a failed connection is retried for GET, never for POST (it may have been acted on)", async () => {
    const attempts = { GET: 0, POST: 0 };
    const signet = client({
      retryDelayMs: 1,
      fetch: async (_url, init) => {
        attempts[init!.method as "GET" | "POST"]++;
        throw new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") });
      },
    });
    await expect(signet.request("GET", "/me", { token })).rejects.toMatchObject({
      code: "unavailable",
      message: expect.stringContaining("ECONNREFUSED"),
    });
    await expect(signet.request("POST", "/notes", { token, json: {} })).rejects.toMatchObject({
      code: "unavailable",
    });
    expect(attempts).toEqual({ GET: 3, POST: 1 });
  });

  it("an HTML answer (the wrong port) is reported as such", async () => {
    const signet = client({
      fetch: async () =>
        new Response("<!doctype html><title>Not Found</title>", {
          status: 404,
          statusText: "Not Found",
          headers: { "content-type": "text/html" },
        }),
    });
    await expect(signet.request("GET", "/me", { token })).rejects.toMatchObject({
      code: "http_404",
      message: expect.stringContaining("HTML page, not a Signet answer"),
    });
  });
});

describe("SIGNET_PUBLIC_URL", () => {
  let behindProxy: DataPod;
  beforeAll(async () => {
    behindProxy = await startDataPod({ db: tdb.db, config: { publicUrl: "https://signet.example" } });
  });
  afterAll(async () => {
    await behindProxy.close();
  });

  it("signed for the public origin, called at the pod's own address: accepted; signed for the address: refused", async () => {
    const publicSigned = createSignetClient({
      baseUrl: behindProxy.url,
      publicUrl: "https://signet.example",
      consumer,
    });
    await expect(publicSigned.request("GET", "/me", { token })).resolves.toMatchObject({
      username: user.username,
    });
    const addressSigned = createSignetClient({ baseUrl: behindProxy.url, consumer });
    await expect(addressSigned.request("GET", "/me", { token })).rejects.toMatchObject({
      code: "signature_invalid",
    });
  });

  it("a full URL on another origin is refused before anything is signed or sent", async () => {
    let called = 0;
    const publicSigned = createSignetClient({
      baseUrl: behindProxy.url,
      publicUrl: "https://signet.example",
      consumer,
      fetch: async () => {
        called++;
        return new Response(null, { status: 204 });
      },
    });
    await expect(publicSigned.fetch("https://elsewhere.example/me")).rejects.toThrow(/base URL's origin/);
    expect(called).toBe(0);
    await publicSigned.fetch(`${behindProxy.url}/me`);
    expect(called).toBe(1);
  });
});
