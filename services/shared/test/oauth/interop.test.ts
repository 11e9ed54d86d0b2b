// Agreement with an independent implementation: Debian's python3-oauthlib, driven through
// interop/oauthlib_interop.py with JSON on stdin/stdout.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { signRequest, type IncomingRequest, type SignatureMethod } from "../../src/oauth/index.js";
import { CONSUMER, NOW, rejection, TOKEN, verifier } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./interop/oauthlib_interop.py", import.meta.url));

function probe(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing`;
  const r = spawnSync(PYTHON, ["-c", "import oauthlib.oauth1"], { encoding: "utf8" });
  if (r.status !== 0)
    return `python3-oauthlib is not importable by ${PYTHON}: ${r.stderr.trim()} (apt-get install -y python3-requests-oauthlib python3-oauthlib)`;
  return null;
}
const missing = probe();

function python<T>(action: "sign" | "verify", cases: unknown[]): T[] {
  const r = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify({ action, cases }),
    encoding: "utf8",
    timeout: 20_000,
  });
  if (r.status !== 0) throw new Error(`oauthlib_interop.py failed (${r.status}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { results: T[] }).results;
}

interface Case {
  name: string;
  method: string;
  url: string;
  body?: string;
  contentType?: string;
}

const BASE = "https://data.example:8443";
const CASES: Case[] = [
  {
    name: "GET, repeated and reserved query parameters",
    method: "GET",
    url: `${BASE}/notes?a=1&a=2&q=%2B%20%26%3D%2A&z=~&b=&b=x&sp=a+b`,
  },
  {
    name: "GET, UTF-8 in query and path",
    method: "GET",
    url: `${BASE}/caf%C3%A9/notes?name=%E2%98%83&k%C3%A9y=%F0%9F%98%80`,
  },
  {
    name: "POST, form body",
    method: "POST",
    url: `${BASE}/authenticate?via=form`,
    body: "username=J%C3%BCrgen+X&tags=a&tags=b&empty=&sym=%21%2A%27%28%29&via=body",
    contentType: "application/x-www-form-urlencoded",
  },
];
const JSON_CASE: Case = {
  name: "POST, JSON body",
  method: "POST",
  url: `${BASE}/notes`,
  body: JSON.stringify({ title: "x & y", body: "ünï ☃" }),
  contentType: "application/json",
};

const METHODS: SignatureMethod[] = ["HMAC-SHA1", "HMAC-SHA256"];

function incoming(c: Case, authorization: string): IncomingRequest {
  return {
    method: c.method,
    url: c.url,
    authorization,
    contentType: c.contentType,
    body: c.body === undefined ? undefined : Buffer.from(c.body, "utf8"),
  };
}

function oauthlibSign(c: Case, method: SignatureMethod, nonce: string): string {
  const [res] = python<{ authorization: string; url: string }>("sign", [
    { ...c, consumer: CONSUMER, token: TOKEN, signatureMethod: method, nonce, timestamp: NOW },
  ]);
  expect(res!.url).toBe(c.url); // oauthlib sent the URL unchanged (header transport)
  return res!.authorization;
}

describe.skipIf(missing !== null && !process.env.CI)(
  `interop with oauthlib${missing ? ` (unavailable: ${missing})` : ""}`,
  () => {
    it("the Python side is available (required under CI)", () => {
      expect(missing).toBeNull();
    });

    describe("oauthlib signs, we verify", () => {
      for (const method of METHODS) {
        for (const c of [...CASES, ...(method === "HMAC-SHA1" ? [JSON_CASE] : [])]) {
          it(`${method}: ${c.name}`, async () => {
            const verify = verifier();
            const auth = oauthlibSign(c, method, `n${method}${c.name.length}`);
            const res = await verify(incoming(c, auth));
            expect(res.tokenKey).toBe(TOKEN.key);
            expect(res.signatureMethod).toBe(method);
            // and a tampered copy is refused, so acceptance is not vacuous
            const e = await rejection(verify({ ...incoming(c, auth), method: "PUT" }));
            expect(e.problem).toBe("signature_invalid");
          });
        }
      }

      // oauthlib 3.2 always hashes bodies with SHA-1 (see oauthlib/oauth1/rfc5849/__init__.py),
      // while Signet's contract wants SHA-256 with HMAC-SHA256: that request is refused.
      it("HMAC-SHA256 JSON POST: oauthlib's SHA-1 body hash is refused (contract requires SHA-256)", async () => {
        const verify = verifier();
        const auth = oauthlibSign(JSON_CASE, "HMAC-SHA256", "json256");
        const e = await rejection(verify(incoming(JSON_CASE, auth)));
        expect(e.problem).toBe("body_hash_invalid");
      });
    });

    describe("we sign, oauthlib verifies", () => {
      for (const method of METHODS) {
        it(`${method}: every case, and tampered copies fail`, () => {
          const all = [...CASES, JSON_CASE];
          const cases = all.flatMap((c, i) => {
            const authorization = signRequest({
              method: c.method,
              url: c.url,
              consumer: CONSUMER,
              token: TOKEN,
              signatureMethod: method,
              body: c.body,
              contentType: c.contentType,
              nonce: `our${i}`,
              timestamp: NOW,
            });
            const good = {
              ...c,
              authorization,
              consumerSecret: CONSUMER.secret,
              tokenSecret: TOKEN.secret,
              signatureMethod: method,
            };
            return [
              good,
              { ...good, url: c.url.replace("data.example", "data.example.evil") },
              { ...good, tokenSecret: "wrong" },
            ];
          });
          const results = python<{ valid: boolean; bodyHash: string }>("verify", cases);
          all.forEach((c, i) => {
            expect(results[3 * i], c.name).toEqual({
              valid: true,
              bodyHash: c === JSON_CASE ? "ok" : "absent",
            });
            expect(results[3 * i + 1]!.valid, `${c.name} (other host)`).toBe(false);
            expect(results[3 * i + 2]!.valid, `${c.name} (wrong token secret)`).toBe(false);
          });
        });
      }
    });
  },
);
