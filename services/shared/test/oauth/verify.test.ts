import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createVerifier,
  formatAuthorizationHeader,
  OAuthError,
  signRequestDetailed,
  type IncomingRequest,
  type SignatureMethod,
  type CredentialStore,
  type SignRequestOptions,
} from "../../src/oauth/index.js";
import {
  CONSUMER,
  memoryCredentialsAtHand,
  MemoryNonces,
  NOW,
  rejection,
  TOKEN,
  verifier,
  type Consumer,
  type Token,
} from "./helpers.js";

const BASE = "https://data.example:8443";

interface Req {
  method: string;
  url: string;
  body?: string;
  contentType?: string;
}

function signed(
  req: Req,
  over: Partial<SignRequestOptions> = {},
): IncomingRequest & { oauthParams: Record<string, string> } {
  const s = signRequestDetailed({
    method: req.method,
    url: req.url,
    consumer: CONSUMER,
    token: TOKEN,
    timestamp: NOW,
    body: req.body,
    contentType: req.contentType,
    ...over,
  });
  return {
    method: req.method,
    url: req.url,
    authorization: s.authorization,
    contentType: req.contentType,
    body: req.body === undefined ? undefined : Buffer.from(req.body),
    oauthParams: s.oauthParams,
  };
}

/** Re-formats the header from (modified) protocol parameters, keeping the signature. */
function withParams(
  req: ReturnType<typeof signed>,
  change: (p: Record<string, string>) => void,
): IncomingRequest {
  const p = { ...req.oauthParams };
  change(p);
  return { ...req, authorization: formatAuthorizationHeader(p) };
}

const GET: Req = { method: "GET", url: `${BASE}/notes?limit=10&tag=a&tag=b` };
const FORM: Req = {
  method: "POST",
  url: `${BASE}/authenticate`,
  body: "username=j%C3%BCrgen&password=p%40ss+word",
  contentType: "application/x-www-form-urlencoded; charset=utf-8",
};
const JSON_POST: Req = {
  method: "POST",
  url: `${BASE}/notes`,
  body: JSON.stringify({ title: "t", body: "ü ☃" }),
  contentType: "application/json",
};

async function expectProblem(p: Promise<unknown>, problem: OAuthError["problem"], status: 400 | 401 = 401) {
  const e = await rejection(p);
  expect({ problem: e.problem, status: e.status }).toEqual({ problem, status });
}

/** `req` with its header parameters changed after signing: `v` refuses it with `problem`. */
function expectAltered(
  v: ReturnType<typeof verifier>,
  req: ReturnType<typeof signed>,
  change: (p: Record<string, string>) => void,
  problem: OAuthError["problem"],
  status: 400 | 401 = 401,
) {
  return expectProblem(v(withParams(req, change)), problem, status);
}

describe("verifier: accepts", () => {
  for (const method of ["HMAC-SHA256", "HMAC-SHA1"] as SignatureMethod[]) {
    it(`GET, form POST and JSON POST with ${method}`, async () => {
      const v = verifier();
      for (const r of [GET, FORM, JSON_POST]) {
        const res = await v(signed(r, { signatureMethod: method }));
        expect(res.consumer).toEqual({ key: CONSUMER.key, name: "test" });
        expect(res.token).toEqual({ token: TOKEN.key, userId: 7 });
        expect(res.signatureMethod).toBe(method);
        expect(res.oauthParams.oauth_consumer_key).toBe(CONSUMER.key);
      }
    });
  }

  it("JSON bodies carry a plain-SHA oauth_body_hash; form bodies none", () => {
    expect(signed(JSON_POST).oauthParams.oauth_body_hash).toBe(
      // sha256 of the body, computed independently
      createHash("sha256").update(Buffer.from(JSON_POST.body!, "utf8")).digest("base64"),
    );
    expect(signed(JSON_POST, { signatureMethod: "HMAC-SHA1" }).oauthParams.oauth_body_hash).toBe(
      createHash("sha1").update(Buffer.from(JSON_POST.body!, "utf8")).digest("base64"),
    );
    expect(signed(FORM).oauthParams.oauth_body_hash).toBeUndefined();
  });

  it("two-legged: no token, or an empty oauth_token", async () => {
    const v = verifier({ requireToken: false });
    const res = await v(signed(FORM, { token: undefined }));
    expect(res.token).toBeNull();
    expect(res.tokenKey).toBeNull();
    await expect(v(signed(GET, { token: { key: "", secret: "" } }))).resolves.toMatchObject({ token: null });
  });

  it("rotation: both secrets verify during the grace period", async () => {
    const v = verifier({ extraSecrets: ["the-old-secret"] });
    await expect(v(signed(GET))).resolves.toBeTruthy();
    await expect(
      v(signed(GET, { consumer: { key: CONSUMER.key, secret: "the-old-secret" } })),
    ).resolves.toBeTruthy();
    await expectProblem(
      v(signed(GET, { consumer: { key: CONSUMER.key, secret: "a-third-secret" } })),
      "signature_invalid",
    );
  });

  it("scheme/host case and default port do not matter; the timestamp window edges are inside", async () => {
    const v = verifier();
    const r = signed({ method: "GET", url: "http://Data.Example:80/me" }, { timestamp: NOW - 300 });
    await expect(v({ ...r, url: "HTTP://data.example/me" })).resolves.toBeTruthy();
    await expect(
      v(signed({ method: "GET", url: "http://data.example/me" }, { timestamp: NOW + 300 })),
    ).resolves.toBeTruthy();
  });

  it("a body hash of the empty body is accepted on a bodiless request", async () => {
    const v = verifier();
    const r = signed({ method: "DELETE", url: `${BASE}/notes/1`, body: "", contentType: "application/json" });
    expect(r.oauthParams.oauth_body_hash).toBeUndefined();
    const withHash = signRequestDetailed({
      method: "DELETE",
      url: `${BASE}/notes/2`,
      consumer: CONSUMER,
      token: TOKEN,
      timestamp: NOW,
    });
    await expect(
      v({ method: "DELETE", url: `${BASE}/notes/2`, authorization: withHash.authorization }),
    ).resolves.toBeTruthy();
  });
});

describe("verifier: tampering", () => {
  it("tampered method, path, query, form field, JSON body → signature_invalid / body_hash_invalid", async () => {
    const v = verifier();
    const g = signed(GET);
    await expectProblem(v({ ...g, method: "DELETE" }), "signature_invalid");
    await expectProblem(v({ ...g, url: g.url.replace("/notes", "/notez") }), "signature_invalid");
    await expectProblem(v({ ...g, url: g.url.replace("limit=10", "limit=11") }), "signature_invalid");
    await expectProblem(v({ ...g, url: g.url.replace("tag=b", "tag=c") }), "signature_invalid");
    await expectProblem(v({ ...g, url: g.url + "&extra=1" }), "signature_invalid");
    await expectProblem(v({ ...g, url: g.url.replace(":8443", ":8444") }), "signature_invalid");
    await expectProblem(v({ ...g, url: g.url.replace("https:", "http:") }), "signature_invalid");
    const f = signed(FORM);
    await expectProblem(
      v({ ...f, body: Buffer.from(FORM.body!.replace("word", "w0rd")) }),
      "signature_invalid",
    );
    await expectProblem(v({ ...f, body: Buffer.from(FORM.body + "&admin=1") }), "signature_invalid");
    const j = signed(JSON_POST);
    await expectProblem(
      v({ ...j, body: Buffer.from(JSON_POST.body!.replace('"t"', '"x"')) }),
      "body_hash_invalid",
    );
    // a form-signed request replayed as JSON: no body hash
    await expectProblem(v({ ...f, contentType: "application/json" }), "body_hash_invalid");
    // a JSON request with its body dropped
    await expectProblem(v({ ...j, body: undefined }), "body_hash_invalid");
  });

  it("a body hash recomputed for a changed body does not help without the secret", async () => {
    const v = verifier();
    const j = signed(JSON_POST);
    const body = JSON_POST.body!.replace('"t"', '"x"');
    const forged = withParams(j, (p) => {
      p.oauth_body_hash = createHash("sha256").update(body).digest("base64");
    });
    await expectProblem(v({ ...forged, body: Buffer.from(body) }), "signature_invalid");
  });

  it("each header parameter", async () => {
    const v = verifier();
    const g = signed(GET);
    await expectAltered(v, g, (p) => (p.oauth_nonce += "x"), "signature_invalid");
    await expectAltered(v, g, (p) => (p.oauth_timestamp = String(NOW + 1)), "signature_invalid");
    // another key or token, whatever its state: the signature no longer holds, and that is all it learns
    for (const token of ["expired-token", "revoked-token", "other-consumers-token", "unknown-token"]) {
      await expectAltered(v, g, (p) => (p.oauth_token = token), "signature_invalid");
    }
    for (const consumer of ["revoked-consumer", "unknown-consumer"]) {
      await expectAltered(v, g, (p) => (p.oauth_consumer_key = consumer), "signature_invalid");
    }
    await expectAltered(v, g, (p) => (p.oauth_signature_method = "HMAC-SHA1"), "signature_invalid");
    await expectAltered(v, g, (p) => delete p.oauth_version, "signature_invalid");
    const flipFirst = (signature: string) => signature.replace(/^./, (c) => (c === "A" ? "B" : "A"));
    await expectAltered(
      v,
      g,
      (p) => (p.oauth_signature = flipFirst(p.oauth_signature!)),
      "signature_invalid",
    );
  });

  it("wrong consumer secret, wrong token secret", async () => {
    const v = verifier();
    await expectProblem(
      v(signed(GET, { consumer: { key: CONSUMER.key, secret: "nope" } })),
      "signature_invalid",
    );
    await expectProblem(v(signed(GET, { token: { key: TOKEN.key, secret: "nope" } })), "signature_invalid");
    await expectProblem(v(signed(GET, { token: { key: TOKEN.key, secret: "" } })), "signature_invalid");
  });
});

describe("verifier: no oracle without a signature", () => {
  const revokedConsumer = { key: "revoked-consumer", secret: CONSUMER.secret };
  const withToken = (key: string) => ({ key, secret: TOKEN.secret });

  it("a revoked, expired or foreign token answers as an unknown one unless the request is signed with it", async () => {
    for (const key of ["revoked-token", "expired-token", "other-consumers-token", "unknown-token"]) {
      // signed with a wrong token secret, or with no secret at all: exactly what an unknown token gets
      await expectProblem(verifier()(signed(GET, { token: { key, secret: "guess" } })), "signature_invalid");
      await expectProblem(verifier()(signed(GET, { token: { key, secret: "" } })), "signature_invalid");
    }
  });

  it("a request signed with the token's secret learns its state, and burns no nonce", async () => {
    const nonces = new MemoryNonces();
    const v = verifier({ nonces });
    await expectProblem(v(signed(GET, { token: withToken("revoked-token") })), "token_revoked");
    await expectProblem(v(signed(GET, { token: withToken("expired-token") })), "token_expired");
    await expectProblem(v(signed(GET, { token: withToken("other-consumers-token") })), "token_rejected");
    expect(nonces.calls).toBe(0);
  });

  it("a revoked consumer answers as an unknown one unless the request is signed with its secret", async () => {
    const twoLegged = verifier({ requireToken: false });
    for (const key of ["revoked-consumer", "unknown-consumer"]) {
      await expectProblem(
        twoLegged(signed(FORM, { token: undefined, consumer: { key, secret: "guess" } })),
        "signature_invalid",
      );
    }
    await expectProblem(
      twoLegged(signed(FORM, { token: undefined, consumer: revokedConsumer })),
      "consumer_key_rejected",
    );
    // on a token route the consumer's state comes first, still only behind the signature
    await expectProblem(verifier()(signed(GET, { consumer: revokedConsumer })), "consumer_key_rejected");
    await expectProblem(
      verifier()(signed(GET, { consumer: revokedConsumer, token: { key: TOKEN.key, secret: "guess" } })),
      "signature_invalid",
    );
  });

  it("an unknown consumer is checked against a secret nobody holds: even an empty one fails", async () => {
    for (const secret of ["", "secret", CONSUMER.secret]) {
      await expectProblem(
        verifier({ requireToken: false })(
          signed(FORM, { token: undefined, consumer: { key: "unknown-consumer", secret } }),
        ),
        "signature_invalid",
      );
    }
  });

  it("a store that throws a state instead of answering it tells nothing either", async () => {
    const v = verifier({
      credentials: {
        consumer: async () => {
          throw new OAuthError("consumer_key_rejected", "revoked");
        },
        token: async () => null,
      },
    });
    await expectProblem(v(signed(GET)), "signature_invalid");
  });
});

describe("verifier: protocol rules", () => {
  it("timestamp too old, too far ahead, not an integer", async () => {
    const v = verifier();
    await expectProblem(v(signed(GET, { timestamp: NOW - 301 })), "timestamp_refused");
    await expectProblem(v(signed(GET, { timestamp: NOW + 301 })), "timestamp_refused");
    const g = signed(GET);
    for (const t of ["", "abc", "-1", "1.5", "1e9", " 1", "99999999999999999999"]) {
      await expectAltered(
        v,
        g,
        (p) => (p.oauth_timestamp = t),
        t === "" ? "parameter_absent" : "timestamp_refused",
      );
    }
  });

  it("a nonce is accepted once; only signed requests use nonces", async () => {
    const nonces = new MemoryNonces();
    const v = verifier({ nonces });
    const g = signed(GET, { nonce: "n-1" });
    await v(g);
    await expectProblem(v(g), "nonce_used");
    // a fresh signature with a new timestamp does not make the nonce usable again
    await expectProblem(v(signed(GET, { nonce: "n-1", timestamp: NOW + 1 })), "nonce_used");
    const callsBefore = nonces.calls;
    await expectProblem(v({ ...signed(GET, { nonce: "n-2" }), method: "PUT" }), "signature_invalid");
    expect(nonces.calls).toBe(callsBefore);
    await expect(v(signed(GET, { nonce: "n-2" }))).resolves.toBeTruthy();
  });

  it("a nonce longer than the replay table keeps is refused before any lookup", async () => {
    const nonces = new MemoryNonces();
    const v = verifier({ nonces });
    await expectProblem(v(signed(GET, { nonce: "n".repeat(129) })), "parameter_rejected", 400);
    expect(nonces.calls).toBe(0);
    await expect(v(signed(GET, { nonce: "n".repeat(128) }))).resolves.toBeTruthy();
  });

  it("missing header and missing parameters → 401 parameter_absent", async () => {
    const v = verifier();
    await expectProblem(v({ method: "GET", url: GET.url, authorization: undefined }), "parameter_absent");
    await expectProblem(v({ method: "GET", url: GET.url, authorization: "" }), "parameter_absent");
    await expectProblem(v({ method: "GET", url: GET.url, authorization: "OAuth" }), "parameter_absent");
    const g = signed(GET);
    for (const name of [
      "oauth_consumer_key",
      "oauth_signature_method",
      "oauth_signature",
      "oauth_timestamp",
      "oauth_nonce",
      "oauth_token",
    ]) {
      await expectAltered(v, g, (p) => delete p[name], "parameter_absent");
      await expectAltered(v, g, (p) => (p[name] = ""), "parameter_absent");
    }
  });

  it("a token on a consumer-only route → 401 parameter_rejected", async () => {
    await expectProblem(verifier({ requireToken: false })(signed(GET)), "parameter_rejected", 401);
  });

  it("PLAINTEXT and RSA-SHA1 → signature_method_rejected; oauth_version 2.0 → version_rejected", async () => {
    const v = verifier();
    const g = signed(GET);
    await expectAltered(v, g, (p) => (p.oauth_signature_method = "PLAINTEXT"), "signature_method_rejected");
    await expectAltered(v, g, (p) => (p.oauth_signature_method = "RSA-SHA1"), "signature_method_rejected");
    await expectAltered(v, g, (p) => (p.oauth_signature_method = "hmac-sha256"), "signature_method_rejected");
    await expectAltered(v, g, (p) => (p.oauth_version = "2.0"), "version_rejected");
    await expectAltered(v, g, (p) => (p.oauth_version = ""), "version_rejected");
  });

  it("duplicate and unknown header parameters → 400 parameter_rejected", async () => {
    const v = verifier();
    const g = signed(GET);
    for (const extra of [
      'oauth_nonce="again"',
      `oauth_nonce="${g.oauthParams.oauth_nonce}"`,
      'oauth_foo="1"',
      'realm="a", realm="b"',
      'lang="en"',
    ]) {
      await expectProblem(
        v({ ...g, authorization: `${g.authorization}, ${extra}` }),
        "parameter_rejected",
        400,
      );
    }
    // realm is ignored
    await expect(
      v({ ...g, authorization: g.authorization!.replace("OAuth ", 'OAuth realm="signet", ') }),
    ).resolves.toBeTruthy();
  });

  it("an oauth_ parameter in the query or form body → 400 parameter_rejected", async () => {
    const v = verifier();
    await expectProblem(
      v(signed({ method: "GET", url: `${BASE}/me?oauth_nonce=x` })),
      "parameter_rejected",
      400,
    );
    await expectProblem(
      v(signed({ method: "GET", url: `${BASE}/me?oauth%5Ftoken=x` })),
      "parameter_rejected",
      400,
    );
    await expectProblem(
      v(signed({ ...FORM, body: `${FORM.body}&oauth_signature=abc` })),
      "parameter_rejected",
      400,
    );
  });

  it("a form body must not carry oauth_body_hash → 400 parameter_rejected", async () => {
    const v = verifier();
    const f = signed(FORM);
    const r = withParams(f, (p) => (p.oauth_body_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
    await expectProblem(v(r), "parameter_rejected", 400);
  });

  it("at most 100 query and form parameters, counted together, before they are parsed", async () => {
    const v = verifier();
    const query = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `p${from + i}=${i}`).join("&");
    await expect(v(signed({ method: "GET", url: `${BASE}/notes?${query(100)}` }))).resolves.toBeTruthy();
    await expectProblem(
      v(signed({ method: "GET", url: `${BASE}/notes?${query(101)}` })),
      "parameter_rejected",
      400,
    );
    await expectProblem(
      v(signed({ ...FORM, url: `${BASE}/authenticate?${query(60)}`, body: query(41, 60) })),
      "parameter_rejected",
      400,
    );
    // empty segments are no parameters
    await expect(v(signed({ method: "GET", url: `${BASE}/notes?${query(100)}&&&` }))).resolves.toBeTruthy();
  });

  it("a body hash on a bodiless request must be the hash of empty", async () => {
    const v = verifier();
    const g = signed(GET);
    await expectAltered(v, g, (p) => (p.oauth_body_hash = "AAAA"), "body_hash_invalid");
  });

  it("malformed URLs and query escapes → 400 parameter_rejected", async () => {
    const v = verifier();
    const g = signed(GET);
    await expectProblem(v({ ...g, url: "/notes" }), "parameter_rejected", 400);
    await expectProblem(v({ ...g, url: "ftp://x/notes" }), "parameter_rejected", 400);
    await expectProblem(v({ ...g, url: `${BASE}/notes?a=%zz` }), "parameter_rejected", 400);
    await expectProblem(v({ ...g, url: `${BASE}/notes?a=%4` }), "parameter_rejected", 400);
  });

  it("store failures that are not OAuthError propagate unchanged (an outage is not bad input)", async () => {
    const v = createVerifier({
      credentials: {
        consumer: async () => {
          throw new Error("database down");
        },
        token: async () => null,
      },
      nonces: new MemoryNonces(),
      timestampWindow: 300,
      now: () => NOW,
      requireToken: true,
    });
    await expect(v(signed(GET))).rejects.toThrow("database down");
  });
});

describe("verifier: malformed headers → 400 parameter_rejected", () => {
  const g = signed(GET);
  const cases: Record<string, string> = {
    "no OAuth scheme": g.authorization!.slice("OAuth ".length),
    "Bearer scheme": "Bearer abc",
    "OAuthX scheme": g.authorization!.replace("OAuth ", "OAuthX "),
    "unterminated quotes": g.authorization!.slice(0, -1),
    "unquoted value": "OAuth oauth_nonce=abc",
    "missing =": 'OAuth oauth_nonce"abc"',
    "missing comma": 'OAuth oauth_nonce="a" oauth_token="b"',
    garbage: "OAuth \u0000\u0001\u0002",
    "huge header": `OAuth oauth_nonce="${"a".repeat(10_000)}"`,
    "invalid percent-encoding": g.authorization!.replace(/oauth_nonce="[^"]*"/, 'oauth_nonce="%G1"'),
    "truncated percent-encoding": g.authorization!.replace(/oauth_nonce="[^"]*"/, 'oauth_nonce="ab%4"'),
    "invalid UTF-8 escape": g.authorization!.replace(/oauth_nonce="[^"]*"/, 'oauth_nonce="%FF%FE"'),
    "non-ASCII": g.authorization!.replace(/oauth_nonce="[^"]*"/, 'oauth_nonce="nönce"'),
    "backslash in value": g.authorization!.replace(/oauth_nonce="[^"]*"/, 'oauth_nonce="a\\"b"'),
    newline: g.authorization!.replace(", ", ",\r\n "),
  };
  for (const [name, header] of Object.entries(cases)) {
    it(name, async () => {
      await expectProblem(verifier()({ ...g, authorization: header }), "parameter_rejected", 400);
    });
  }

  it("tolerates extra whitespace and empty list elements", async () => {
    const header = g
      .authorization!.replace("OAuth ", "  oauth   ,")
      .replaceAll(", ", " ,\t,  ")
      .replaceAll("=", " = ");
    await expect(verifier()({ ...g, authorization: header })).resolves.toBeTruthy();
  });
});

describe("verifier: a credential store answering at once (no promise, as a cache hit does)", () => {
  const syncStore = (fail?: () => never): CredentialStore<Consumer, Token> => {
    const atHand = memoryCredentialsAtHand();
    return {
      consumer(key) {
        if (fail) fail();
        return atHand.consumer(key);
      },
      token: atHand.token,
    };
  };
  const syncVerifier = (credentials: CredentialStore<Consumer, Token>) => verifier({ credentials });

  it("accepts, and refuses by the same rules as a store that answers with a promise", async () => {
    const v = syncVerifier(syncStore());
    const res = await v(signed(GET));
    expect(res.consumer).toEqual({ key: CONSUMER.key, name: "test" });
    expect(res.token).toEqual({ token: TOKEN.key, userId: 7 });
    await expectProblem(
      v(signed(GET, { token: { key: "unknown-token", secret: TOKEN.secret } })),
      "signature_invalid",
    );
    await expectProblem(
      v(signed(GET, { consumer: { key: "revoked-consumer", secret: CONSUMER.secret } })),
      "consumer_key_rejected",
    );
    await expectProblem(v(signed(GET, { consumer: { key: "nobody", secret: "x" } })), "signature_invalid");
  });

  it("a synchronous OAuthError is a refusal with no secret; any other error propagates", async () => {
    const refusing = syncVerifier(
      syncStore(() => {
        throw new OAuthError("consumer_key_rejected", "no");
      }),
    );
    await expectProblem(refusing(signed(GET)), "signature_invalid");
    const broken = syncVerifier(
      syncStore(() => {
        throw new Error("database down");
      }),
    );
    await expect(broken(signed(GET))).rejects.toThrow("database down");
  });
});
