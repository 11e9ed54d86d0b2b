// Property-based checks: mutated signed requests never verify, and no input makes the
// verifier throw anything but OAuthError.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  OAuthError,
  parseAuthorizationHeader,
  signRequestDetailed,
  type IncomingRequest,
  type SignatureMethod,
} from "../../src/oauth/index.js";
import { CONSUMER, NOW, TOKEN, verifier } from "./helpers.js";

const RUNS = 2000;

/** Resolves to "ok", or the OAuthError problem; rethrows anything else. */
async function outcome(req: IncomingRequest): Promise<string> {
  try {
    await verifier()(req);
    return "ok";
  } catch (e) {
    if (e instanceof OAuthError) return e.problem;
    throw e;
  }
}

const token = (chars: string[]) =>
  fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 6 }).map((a) => a.join(""));
const PCHARS = ["a", "b", "Z", "0", "9", "~", "-", ".", "_", "%20", "%C3%A9", "%2F", "!", "*"];
const QCHARS = ["a", "b", "Z", "1", "~", "-", "%2B", "%20", "+", "%26", "%3D", "%E2%98%83", "*", "!", "%25"];
const pairs = fc.array(fc.tuple(token(QCHARS), fc.option(token(QCHARS), { nil: "" })), { maxLength: 5 });
const formText = (ps: [string, string][]) => ps.map(([k, v]) => `${k}=${v}`).join("&");

const requestArb = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE"),
  scheme: fc.constantFrom("http", "https"),
  host: fc.constantFrom("data.example", "127.0.0.1:8000", "Data.Example:8443"),
  path: fc.array(token(PCHARS), { maxLength: 3 }),
  query: pairs,
  body: fc.oneof(
    fc.constant({ kind: "none" as const }),
    pairs.filter((p) => p.length > 0).map((p) => ({ kind: "form" as const, text: formText(p) })),
    fc.json({ maxDepth: 2 }).map((j) => ({ kind: "json" as const, text: j })),
  ),
  signatureMethod: fc.constantFrom<SignatureMethod>("HMAC-SHA256", "HMAC-SHA1"),
  nonce: fc.stringMatching(/^[A-Za-z0-9]{8,16}$/),
});
type RequestSpec = typeof requestArb extends fc.Arbitrary<infer R> ? R : never;

interface Signed {
  req: IncomingRequest;
  params: Record<string, string>;
}

function build(spec: RequestSpec): Signed {
  const url = `${spec.scheme}://${spec.host}/${spec.path.join("/")}${spec.query.length ? "?" + formText(spec.query) : ""}`;
  const contentType =
    spec.body.kind === "form"
      ? "application/x-www-form-urlencoded"
      : spec.body.kind === "json"
        ? "application/json"
        : undefined;
  const body = spec.body.kind === "none" ? undefined : spec.body.text;
  const s = signRequestDetailed({
    method: spec.method,
    url,
    consumer: CONSUMER,
    token: TOKEN,
    signatureMethod: spec.signatureMethod,
    body,
    contentType,
    nonce: spec.nonce,
    timestamp: NOW,
  });
  return {
    req: {
      method: spec.method,
      url,
      authorization: s.authorization,
      contentType,
      body: body === undefined ? undefined : Buffer.from(body),
    },
    params: s.oauthParams,
  };
}

const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789".split("");
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i));
const SEPARATORS = new Set([" ", ",", "\t"]);

/** The protocol parameters a mutation may change or drop. */
const HEADER_PARAMS = [
  "oauth_nonce",
  "oauth_timestamp",
  "oauth_token",
  "oauth_consumer_key",
  "oauth_signature_method",
  "oauth_signature",
  "oauth_body_hash",
  "oauth_version",
] as const;

const mutationArb = fc.oneof(
  fc.record({
    kind: fc.constant("method" as const),
    to: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"),
  }),
  fc.record({ kind: fc.constant("urlChar" as const), pos: fc.nat(), ch: fc.constantFrom(...ALNUM) }),
  fc.record({ kind: fc.constant("addQuery" as const), p: fc.tuple(token(QCHARS), token(QCHARS)) }),
  fc.record({ kind: fc.constant("dropQuery" as const), idx: fc.nat() }),
  fc.record({
    kind: fc.constant("bodyChar" as const),
    pos: fc.nat(),
    ch: fc.constantFrom(...ALNUM, "&", "=", "+", "%"),
  }),
  fc.record({ kind: fc.constant("headerChar" as const), pos: fc.nat(), ch: fc.constantFrom(...PRINTABLE) }),
  fc.record({
    kind: fc.constant("headerParam" as const),
    name: fc.constantFrom(...HEADER_PARAMS),
    value: fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(String(NOW - 1), "HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT", ""),
    ),
  }),
  fc.record({
    kind: fc.constant("dropHeaderParam" as const),
    name: fc.constantFrom(...HEADER_PARAMS),
  }),
  fc.record({
    kind: fc.constant("contentType" as const),
    to: fc.constantFrom("application/json", "application/x-www-form-urlencoded", "text/plain", undefined),
  }),
);
type Mutation = typeof mutationArb extends fc.Arbitrary<infer R> ? R : never;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Whether two form bodies carry the same parameters, by an independent decoder (URLSearchParams). */
const sameForm = (a: string, b: string) => {
  const decoded = (text: string) =>
    JSON.stringify([...new URLSearchParams(text)].map((p) => JSON.stringify(p)).sort());
  return decoded(a) === decoded(b);
};

function header(params: Record<string, string>): string {
  const enc = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  return (
    "OAuth " +
    Object.entries(params)
      .map(([k, v]) => `${k}="${enc(v)}"`)
      .join(", ")
  );
}

/** Applies a mutation; `equivalent` is true when the result may mean the same request. */
function mutate(s: Signed, spec: RequestSpec, m: Mutation): { req: IncomingRequest; equivalent: boolean } {
  const r = { ...s.req };
  switch (m.kind) {
    case "method":
      return { req: { ...r, method: m.to }, equivalent: m.to === r.method };
    case "urlChar": {
      const pos = m.pos % r.url.length;
      const old = r.url[pos]!;
      return {
        req: { ...r, url: r.url.slice(0, pos) + m.ch + r.url.slice(pos + 1) },
        equivalent: same(old, m.ch),
      };
    }
    case "addQuery":
      return {
        req: { ...r, url: r.url + (r.url.includes("?") ? "&" : "?") + `${m.p[0]}=${m.p[1]}` },
        equivalent: false,
      };
    case "dropQuery": {
      if (spec.query.length === 0) return { req: r, equivalent: true };
      const q = [...spec.query];
      q.splice(m.idx % q.length, 1);
      const base = r.url.slice(0, r.url.indexOf("?"));
      return { req: { ...r, url: q.length ? `${base}?${formText(q)}` : base }, equivalent: false };
    }
    case "bodyChar": {
      if (!r.body || r.body.length === 0)
        return { req: { ...r, body: Buffer.from(m.ch) }, equivalent: false };
      const text = r.body.toString("latin1");
      const pos = m.pos % text.length;
      const old = text[pos]!;
      const changed = text.slice(0, pos) + m.ch + text.slice(pos + 1);
      const body = Buffer.from(changed, "latin1");
      // "a=" and "a&" carry the same parameter: a form body is what it decodes to
      const equivalent = same(old, m.ch) || (spec.body.kind === "form" && sameForm(text, changed));
      return { req: { ...r, body }, equivalent };
    }
    case "headerChar": {
      const h = r.authorization!;
      const pos = m.pos % h.length;
      const old = h[pos]!;
      return {
        req: { ...r, authorization: h.slice(0, pos) + m.ch + h.slice(pos + 1) },
        equivalent: same(old, m.ch) || (SEPARATORS.has(old) && SEPARATORS.has(m.ch)),
      };
    }
    case "headerParam": {
      const p = { ...s.params, [m.name]: m.value };
      return { req: { ...r, authorization: header(p) }, equivalent: s.params[m.name] === m.value };
    }
    case "dropHeaderParam": {
      const p = { ...s.params };
      const had = m.name in p;
      delete p[m.name];
      return { req: { ...r, authorization: header(p) }, equivalent: !had };
    }
    case "contentType": {
      const isForm = (t: string | undefined) => t === "application/x-www-form-urlencoded";
      // without a body, or between two non-form types, the content type is not signed
      const equivalent =
        m.to === r.contentType || !r.body || r.body.length === 0 || (!isForm(m.to) && !isForm(r.contentType));
      return { req: { ...r, contentType: m.to }, equivalent };
    }
  }
}

describe("property: mutated signed requests", () => {
  it(`never verify, and only OAuthError escapes (${RUNS} runs)`, async () => {
    let rejectedCount = 0;
    await fc.assert(
      fc.asyncProperty(requestArb, mutationArb, async (spec, m) => {
        const s = build(spec);
        expect(await outcome(s.req)).toBe("ok");
        const { req, equivalent } = mutate(s, spec, m);
        const result = await outcome(req); // rethrows any non-OAuthError
        if (!equivalent) {
          expect(result).not.toBe("ok");
          expect(result).not.toBe("nonce_used"); // each verify uses a fresh nonce store
          rejectedCount++;
        }
      }),
      { numRuns: RUNS },
    );
    expect(rejectedCount).toBeGreaterThan(RUNS * 0.8);
  });
});

describe("property: random and malformed input", () => {
  const headerish = fc
    .array(
      fc.oneof(
        fc.constantFrom(
          "OAuth ",
          "oauth ",
          "realm",
          "oauth_nonce",
          "oauth_token",
          "oauth_signature",
          "oauth_timestamp",
          "oauth_consumer_key",
          "oauth_signature_method",
          "oauth_version",
          "=",
          '"',
          ",",
          " ",
          "\t",
          "%",
          "%2",
          "%C3",
          "%FF",
          "\\",
          "1.0",
          "HMAC-SHA256",
          "\r\n",
          "\u0000",
          "é",
          "\uD800",
        ),
        fc.string({ maxLength: 6 }),
      ),
      { maxLength: 30 },
    )
    .map((parts) => parts.join(""));

  it(`headers: only OAuthError, never a verified request (${RUNS} runs)`, async () => {
    const s = build({
      method: "GET",
      scheme: "https",
      host: "data.example",
      path: ["me"],
      query: [],
      body: { kind: "none" },
      signatureMethod: "HMAC-SHA256",
      nonce: "abcdefgh",
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          headerish,
          fc.string({ unit: "binary", maxLength: 200 }),
          fc.string({ unit: "grapheme", maxLength: 50 }),
        ),
        async (h) => {
          const result = await outcome({ ...s.req, authorization: h });
          expect(result).not.toBe("ok");
          try {
            parseAuthorizationHeader(h);
          } catch (e) {
            expect(e).toBeInstanceOf(OAuthError);
            expect((e as OAuthError).status).toBe(400);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`URLs, methods, bodies and content types: only OAuthError (${RUNS} runs)`, async () => {
    const s = build({
      method: "POST",
      scheme: "https",
      host: "data.example",
      path: ["notes"],
      query: [],
      body: { kind: "json", text: "{}" },
      signatureMethod: "HMAC-SHA256",
      nonce: "abcdefgh",
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.webUrl({ withQueryParameters: true, withFragments: true }),
          fc.string({ unit: "binary", maxLength: 60 }).map((x) => "https://data.example/" + x),
        ),
        fc.oneof(fc.constant("POST"), fc.string({ maxLength: 8 })),
        fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
        fc.option(
          fc.constantFrom(
            "application/json",
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded;charset=utf-8",
            "text/plain",
            "",
          ),
          { nil: undefined },
        ),
        async (url, method, body, contentType) => {
          const result = await outcome({
            ...s.req,
            url,
            method,
            body: body === undefined ? undefined : Buffer.from(body),
            contentType,
          });
          expect(result).not.toBe("ok");
        },
      ),
      { numRuns: RUNS },
    );
  });
});
