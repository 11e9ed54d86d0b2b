// 10,000 fast-check mutations of valid signed requests: none accepted, none answered 5xx.
// 1,000 captured valid requests replayed to every pod (same pod and the two others): none
// accepted. Real data apps (app.inject), real PostgreSQL, a private nats-server.
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatAuthorizationHeader, signRequestDetailed, type ClientCredentials } from "@signet/shared/oauth";
import { revokeConsumer, revokeToken } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { usePrivateNats } from "@signet/test-support/hooks";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedCredentials, seedToken, type SeededCredentials } from "@signet/test-support/seed";
import { LONG } from "./support.js";

const PUBLIC = "http://signet.test";
const FUZZ_RUNS = LONG ? 50_000 : 10_000;
const REPLAYS = 1_000;

const database = useTestDatabase();
const nats = usePrivateNats();
const pods: DataPod[] = [];
let good: SeededCredentials;
let other: SeededCredentials; // another consumer with its own user and token
let revokedConsumer: SeededCredentials;
let revokedToken: ClientCredentials;
let expiredToken: ClientCredentials;

beforeAll(async () => {
  for (const id of ["fuzz-a", "fuzz-b", "fuzz-c"]) {
    pods.push(
      await startDataPod({
        id,
        databaseUrl: database.url,
        natsUrl: nats.url,
        listen: false,
        // every request signs against one origin, whichever pod answers (as behind an ingress)
        config: {
          publicUrl: PUBLIC,
          // the fuzz includes logins: keep the limiter out of the way so a refusal is the verifier's
          loginLimitPerUser: 1_000_000,
          loginLimitPerAddress: 1_000_000,
        },
      }),
    );
  }
  good = await seedCredentials(database.db);
  other = await seedCredentials(database.db);
  revokedConsumer = await seedCredentials(database.db);
  await revokeConsumer(database.db, revokedConsumer.consumer.key, "fuzz");
  revokedToken = await seedToken(database.db, good.user, good.consumer);
  await revokeToken(database.db, revokedToken.key);
  expiredToken = await seedToken(database.db, good.user, good.consumer, 1);
  await database.db
    .updateTable("access_tokens")
    .set({ expires_at: new Date(Date.now() - 60_000) })
    .where("token", "=", expiredToken.key)
    .execute();
}, 60_000);

afterAll(async () => {
  for (const pod of pods) await pod.close();
});

// ---- valid requests ---------------------------------------------------------------------------

type Kind = "me" | "notes-list" | "notes-create" | "login";
interface Base {
  kind: Kind;
  method: string;
  path: string;
  contentType: string | undefined;
  body: string | undefined;
  consumer: ClientCredentials;
  token: ClientCredentials | null;
  params: Record<string, string>;
  timestamp: number;
}

function makeBase(kind: Kind, title = "t", text = "b", creds = good): Base {
  const now = Math.floor(Date.now() / 1000);
  const spec =
    kind === "me"
      ? { method: "GET", path: "/me", body: undefined, contentType: undefined, token: creds.token }
      : kind === "notes-list"
        ? { method: "GET", path: "/notes", body: undefined, contentType: undefined, token: creds.token }
        : kind === "notes-create"
          ? {
              method: "POST",
              path: "/notes",
              body: JSON.stringify({ title, body: text }),
              contentType: "application/json",
              token: creds.token,
            }
          : {
              method: "POST",
              path: "/authenticate",
              body: new URLSearchParams({
                username: creds.user.username,
                password: creds.user.password,
              }).toString(),
              contentType: "application/x-www-form-urlencoded",
              token: null,
            };
  const signed = signRequestDetailed({
    method: spec.method,
    url: `${PUBLIC}${spec.path}`,
    consumer: creds.consumer,
    token: spec.token,
    body: spec.body,
    contentType: spec.contentType,
    timestamp: now,
  });
  return { kind, ...spec, consumer: creds.consumer, params: { ...signed.oauthParams }, timestamp: now };
}

/** The header with oauth_version first and oauth_signature last (so a truncation always hits a signed value). */
function header(params: Record<string, string>, extra: [string, string][] = []): string {
  const order = (n: string) => (n === "oauth_version" ? 0 : n === "oauth_signature" ? 2 : 1);
  const entries = Object.entries(params).sort((a, b) => order(a[0]) - order(b[0]));
  return formatAuthorizationHeader([...entries.slice(0, -1), ...extra, ...entries.slice(-1)]);
}

interface Wire {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function wire(base: Base): Wire {
  return {
    method: base.method,
    url: base.path,
    headers: {
      authorization: header(base.params),
      ...(base.contentType ? { "content-type": base.contentType } : {}),
    },
    body: base.body,
  };
}

async function send(pod: DataPod | FastifyInstance, w: Wire) {
  const app = "app" in pod ? pod.app : pod;
  return app.inject({
    method: w.method as "GET",
    url: w.url,
    headers: { host: "signet.test", ...w.headers },
    ...(w.body !== undefined ? { payload: w.body } : {}),
  });
}

// ---- mutations --------------------------------------------------------------------------------

const differentFrom = (original: string) => fc.string({ maxLength: 60 }).filter((s) => s !== original);

/** A mutation of a base request; null when it does not apply to that request. */
type Mutation = (base: Base) => fc.Arbitrary<{ label: string; wire: Wire }> | null;

const mutations: Mutation[] = [
  // change one protocol parameter's value
  (b) =>
    fc
      .constantFrom(...Object.keys(b.params))
      .chain((name) => differentFrom(b.params[name]!).map((value) => ({ name, value })))
      .map(({ name, value }) => ({
        label: `set ${name}=${JSON.stringify(value)}`,
        wire: {
          ...wire(b),
          headers: { ...wire(b).headers, authorization: header({ ...b.params, [name]: value }) },
        },
      })),
  // flip one character of the signature
  (b) =>
    fc
      .tuple(
        fc.nat(),
        fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
      )
      .map(([i, ch]) => {
        const sig = b.params.oauth_signature!;
        const at = i % sig.length;
        const flipped =
          sig.slice(0, at) + (sig[at] === ch ? (ch === "A" ? "B" : "A") : ch) + sig.slice(at + 1);
        return {
          label: `signature char ${at}`,
          wire: {
            ...wire(b),
            headers: { ...wire(b).headers, authorization: header({ ...b.params, oauth_signature: flipped }) },
          },
        };
      }),
  // drop a required parameter (oauth_version is optional, so it is never dropped)
  (b) =>
    fc.constantFrom(...Object.keys(b.params).filter((n) => n !== "oauth_version")).map((name) => {
      const params = { ...b.params };
      delete params[name];
      return {
        label: `drop ${name}`,
        wire: { ...wire(b), headers: { ...wire(b).headers, authorization: header(params) } },
      };
    }),
  // duplicate a parameter, or add one (every oauth_* parameter in the header is signed)
  (b) =>
    fc
      .tuple(
        fc.constantFrom(...Object.keys(b.params), "oauth_callback", "oauth_verifier", "oauth_token"),
        fc.string({ minLength: 1, maxLength: 20 }),
      )
      .map(([name, value]) => {
        const params = { ...b.params };
        const extra: [string, string][] = name in params ? [[name, value]] : [];
        if (!(name in params)) params[name] = value;
        return {
          label: `add ${name}`,
          wire: { ...wire(b), headers: { ...wire(b).headers, authorization: header(params, extra) } },
        };
      }),
  // another method
  (b) =>
    fc
      .constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
      .filter((m) => m !== b.method)
      .map((method) => ({ label: `method ${method}`, wire: { ...wire(b), method } })),
  // another path or query
  (b) =>
    fc
      .oneof(
        fc.constant(`${b.path}/`),
        fc.constant(b.path.toUpperCase()),
        fc.constant(`${b.path}?x=1`),
        fc.constant(`${b.path}?oauth_nonce=${b.params.oauth_nonce}`),
        fc.constant(`/v1${b.path}`),
        fc.webPath().filter((p) => p !== b.path && p.length > 0),
      )
      .map((url) => ({ label: `url ${url}`, wire: { ...wire(b), url } })),
  // another body (a byte changed or appended, or another body altogether). Not on GET:
  // Fastify never reads a GET request's body, so nothing unsigned reaches a handler there.
  (b) =>
    b.method === "GET"
      ? null
      : fc
          .oneof(
            fc.string({ minLength: 1, maxLength: 200 }),
            fc.constant(`${b.body ?? ""} `),
            fc.constant((b.body ?? "x").replace(/.$/, "!")),
          )
          .filter((s) => s !== b.body)
          .map((body) => ({
            label: `body ${JSON.stringify(body).slice(0, 40)}`,
            wire: {
              ...wire(b),
              body,
              headers: { ...wire(b).headers, "content-type": b.contentType ?? "application/json" },
            },
          })),
  // a JSON body presented as a form (its "fields" would have to be in the base string)
  (b) =>
    b.contentType !== "application/json"
      ? null
      : fc.constant({
          label: "content-type form",
          wire: {
            ...wire(b),
            body: b.body!,
            headers: { ...wire(b).headers, "content-type": "application/x-www-form-urlencoded" },
          },
        }),
  // timestamps moved (signed, so any move breaks the signature; far moves are refused first)
  (b) =>
    fc
      .oneof(fc.integer({ min: -100_000, max: 100_000 }), fc.integer({ min: -1e9, max: 1e9 }))
      .filter((d) => d !== 0)
      .map((d) => ({
        label: `timestamp ${d}`,
        wire: {
          ...wire(b),
          headers: {
            ...wire(b).headers,
            authorization: header({ ...b.params, oauth_timestamp: String(b.timestamp + d) }),
          },
        },
      })),
  // re-signed by someone who does not know a secret
  (b) =>
    fc.tuple(fc.string({ maxLength: 40 }), fc.boolean()).map(([secret, consumerSide]) => {
      const consumer = consumerSide
        ? { key: b.consumer.key, secret: secret === b.consumer.secret ? `${secret}x` : secret }
        : b.consumer;
      const token =
        b.token && !consumerSide
          ? { key: b.token.key, secret: secret === b.token.secret ? `${secret}x` : secret }
          : b.token;
      const forged =
        consumerSide || b.token
          ? resign(b, consumer, token)
          : resign(b, { ...consumer, secret: `${consumer.secret}x` }, token);
      return { label: `wrong ${consumerSide ? "consumer" : "token"} secret`, wire: forged };
    }),
  // valid signatures over credentials that must not work
  (b) =>
    fc
      .constantFrom(
        "revoked-consumer",
        "revoked-token",
        "expired-token",
        "foreign-token",
        "token-secret-only",
      )
      .map((what) => {
        if (what === "revoked-consumer")
          return {
            label: what,
            wire: resign(b, revokedConsumer.consumer, b.token ? revokedConsumer.token : null),
          };
        if (what === "token-secret-only")
          return { label: what, wire: resign(b, { key: b.consumer.key, secret: "" }, b.token ?? good.token) };
        const token =
          what === "revoked-token" ? revokedToken : what === "expired-token" ? expiredToken : other.token;
        // consumer-only routes get a token they did not ask for: still must not log in with it… unless
        // the route ignores tokens; send the token-bearing variant to /me instead
        const target =
          b.kind === "login"
            ? {
                ...b,
                kind: "me" as Kind,
                method: "GET",
                path: "/me",
                body: undefined,
                contentType: undefined,
              }
            : b;
        return { label: what, wire: resign(target, b.consumer, token) };
      }),
  // a cut header (at least the signature's last character goes)
  (b) =>
    fc.nat().map((n) => {
      const h = header(b.params);
      const len = n % (h.length - 1);
      return {
        label: `truncate to ${len}`,
        wire: { ...wire(b), headers: { ...wire(b).headers, authorization: h.slice(0, len) } },
      };
    }),
  // a character no header may hold, inserted anywhere
  (b) =>
    fc
      .tuple(
        fc.nat(),
        fc.constantFrom("\u0000", "\u0007", "\u007f", "é", "\u2028", '"', "\\", "\uFFFD", "😀"),
      )
      .map(([n, ch]) => {
        const h = header(b.params);
        const at = n % (h.length + 1);
        return {
          label: `insert ${JSON.stringify(ch)} at ${at}`,
          wire: {
            ...wire(b),
            headers: { ...wire(b).headers, authorization: h.slice(0, at) + ch + h.slice(at) },
          },
        };
      }),
  // another scheme, or garbage
  (b) =>
    fc
      .oneof(
        fc.constantFrom("Bearer ", "Basic ", "OAuth2 ", "", "OAuth"),
        fc.string({ maxLength: 10 }).filter((s) => !/^\s*oauth\s+$/i.test(s)),
      )
      .map((scheme) => ({
        label: `scheme ${JSON.stringify(scheme)}`,
        wire: {
          ...wire(b),
          headers: { ...wire(b).headers, authorization: header(b.params).replace(/^OAuth /, scheme) },
        },
      })),
  (b) =>
    fc
      .oneof(
        fc.string({ maxLength: 300 }),
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.constant("OAuth " + "a".repeat(5000)),
      )
      .map((h) => ({
        label: "garbage header",
        wire: { ...wire(b), headers: { ...wire(b).headers, authorization: h } },
      })),
  // no header at all
  (b) =>
    fc.constant(null).map(() => {
      const w = wire(b);
      const headers = { ...w.headers };
      delete headers.authorization;
      return { label: "no header", wire: { ...w, headers } };
    }),
];

function resign(b: Base, consumer: ClientCredentials, token: ClientCredentials | null): Wire {
  const signed = signRequestDetailed({
    method: b.method,
    url: `${PUBLIC}${b.path}`,
    consumer,
    token,
    body: b.body,
    contentType: b.contentType,
  });
  return wire({ ...b, consumer, token, params: { ...signed.oauthParams } });
}

const baseArb = fc
  .tuple(
    fc.constantFrom<Kind>("me", "notes-list", "notes-create", "login"),
    fc.string({ maxLength: 30 }),
    fc.string({ maxLength: 200 }),
  )
  .map(([kind, title, text]) => makeBase(kind, title || "t", text));

describe("fuzzed requests", () => {
  it("the unmutated requests the fuzz starts from are accepted (the harness is sound)", async () => {
    const samples = fc.sample(baseArb, 100);
    for (const [i, b] of samples.entries()) {
      const res = await send(pods[i % 3]!, wire(b));
      expect(res.statusCode, `${b.kind}: ${res.body}`).toBeGreaterThanOrEqual(200);
      expect(res.statusCode, `${b.kind}: ${res.body}`).toBeLessThan(300);
    }
  });

  it(`${FUZZ_RUNS} mutations of valid signed requests: none accepted, no 5xx`, async () => {
    const seen = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        baseArb.chain((b) => fc.oneof(...mutations.map((m) => m(b)).filter((a) => a !== null))),
        fc.nat(2),
        async (mutated, podIndex) => {
          const res = await send(pods[podIndex]!, mutated.wire);
          sent++;
          seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
          const why = `${mutated.label} → ${res.statusCode} ${res.body.slice(0, 200)}`;
          expect(res.statusCode < 200 || res.statusCode >= 300, why).toBe(true);
          expect(res.statusCode, why).toBeLessThan(500);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    expect(sent).toBe(FUZZ_RUNS);
    // the mutations reached the verifier's refusals, not only routing
    expect(seen.get(401) ?? 0).toBeGreaterThan(FUZZ_RUNS / 2);
  }, 240_000);
});

describe("captured requests replayed across pods", () => {
  it(`${REPLAYS} valid requests, each replayed to all three pods: none accepted`, async () => {
    const before = await database.db
      .selectFrom("notes")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    const captured: { wire: Wire; pod: number }[] = [];
    for (let i = 0; i < REPLAYS; i++) {
      const b = makeBase(i % 2 === 0 ? "me" : "notes-create", `replay ${i}`, "captured");
      const w = wire(b);
      const res = await send(pods[i % 3]!, w);
      expect(res.statusCode, res.body).toBeLessThan(300);
      captured.push({ wire: w, pod: i % 3 });
    }
    const problems = new Map<string, number>();
    for (const { wire: w } of captured) {
      for (const pod of pods) {
        const res = await send(pod, w);
        expect(res.statusCode, res.body).toBe(401);
        const problem =
          /oauth_problem="([a-z_]+)"/.exec(String(res.headers["www-authenticate"] ?? ""))?.[1] ?? "?";
        problems.set(problem, (problems.get(problem) ?? 0) + 1);
      }
    }
    expect(Object.fromEntries(problems)).toEqual({ nonce_used: REPLAYS * 3 });
    const after = await database.db
      .selectFrom("notes")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    // exactly one note per captured POST: no replay wrote anything
    expect(Number(after.n) - Number(before.n)).toBe(REPLAYS / 2);
  }, 120_000);
});
