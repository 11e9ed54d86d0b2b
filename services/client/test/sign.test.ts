// The package's own signer against the repository's: the same base string and header for the
// same nonce and timestamp, and accepted by the data service's verifier, over the awkward
// corners of RFC 5849 (repeated names, "+" and %2B, non-ASCII, empty values, form vs JSON).
import { describe, expect, it } from "vitest";
import { createVerifier, OAuthError, signRequestDetailed } from "@signet/shared/oauth";
import { bodyHash, percentEncode, sign, type SignatureMethod } from "../src/index.js";

const consumer = { key: "consumer-key-1", secret: "consumer secret/1+&" };
const token = { key: "token-key-1", secret: "token~secret%2" };

const cases: {
  name: string;
  method: string;
  url: string;
  body?: string | Uint8Array;
  contentType?: string;
}[] = [
  { name: "plain GET", method: "GET", url: "http://127.0.0.1:8000/me" },
  {
    name: "query with repeats, + and %2B, a name that needs decoding",
    method: "get",
    url: "http://Example.COM:80/notes?b5=%3D%253D&a3=a&c%40=&a2=r%20b&q=a+b&q=a%2Bb&x",
  },
  {
    name: "non-ASCII query, https default port",
    method: "GET",
    url: "https://h.example:443/n?q=caf%C3%A9&e=✓😀",
  },
  {
    name: "form body",
    method: "POST",
    url: "http://127.0.0.1:8000/authenticate",
    body: "username=j%C3%BCrgen&password=p%40ss+word%2B%26%3D&c2&a3=2+q",
    contentType: "application/x-www-form-urlencoded; charset=utf-8",
  },
  {
    name: "form body as bytes (UTF-8 octets unescaped)",
    method: "POST",
    url: "http://127.0.0.1:8000/authenticate",
    body: Buffer.from("username=jürgen&password=x"),
    contentType: "application/x-www-form-urlencoded",
  },
  {
    name: "JSON body (body hash)",
    method: "POST",
    url: "http://127.0.0.1:8000/notes?x=1",
    body: JSON.stringify({ title: "héllo & bye", body: "☃ 😀" }),
    contentType: "application/json",
  },
  {
    name: "binary body (body hash)",
    method: "PUT",
    url: "http://127.0.0.1:8000/blob",
    body: Uint8Array.from([0, 255, 10, 13]),
    contentType: "application/octet-stream",
  },
];

const verifier = (requireToken: boolean) =>
  createVerifier({
    credentials: {
      consumer: async (key) =>
        key === consumer.key ? { record: { key }, secrets: [consumer.secret] } : null,
      token: async (key) => (key === token.key ? { record: { key }, secret: token.secret } : null),
    },
    nonces: { use: async () => true },
    timestampWindow: 300,
    requireToken,
  });

describe("sign", () => {
  for (const signatureMethod of ["HMAC-SHA256", "HMAC-SHA1"] as SignatureMethod[]) {
    for (const c of cases) {
      for (const withToken of [true, false]) {
        it(`${signatureMethod}, ${c.name}, ${withToken ? "with" : "without"} a token: as the repository's signer, and verified`, async () => {
          const common = {
            method: c.method,
            url: c.url,
            consumer,
            token: withToken ? token : undefined,
            signatureMethod,
            body: c.body,
            contentType: c.contentType,
            nonce: "n0nce",
            timestamp: Math.floor(Date.now() / 1000),
          };
          const ours = sign(common);
          const theirs = signRequestDetailed(common);
          expect(ours.baseString).toBe(theirs.baseString);
          expect(ours.authorization).toBe(theirs.authorization);
          const verified = await verifier(withToken)({
            method: c.method.toUpperCase(),
            url: new URL(c.url).toString(),
            authorization: ours.authorization,
            contentType: c.contentType,
            body: c.body === undefined ? undefined : Buffer.from(c.body),
          });
          expect(verified.consumer).toEqual({ key: consumer.key });
        });
      }
    }
  }

  it("a JSON body carries a plain SHA-256 of its bytes; a form body none", () => {
    const json = sign({
      method: "POST",
      url: "http://h/notes",
      consumer,
      body: "{}",
      contentType: "application/json",
    });
    expect(json.authorization).toContain(`oauth_body_hash="${percentEncode(bodyHash("HMAC-SHA256", "{}"))}"`);
    expect(bodyHash("HMAC-SHA256", "{}")).toBe("RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=");
    const form = sign({
      method: "POST",
      url: "http://h/authenticate",
      consumer,
      body: "a=1",
      contentType: "application/x-www-form-urlencoded",
    });
    expect(form.authorization).not.toContain("oauth_body_hash");
  });

  it("publicUrl: signed for the public origin, whatever the address called", async () => {
    const signed = sign({
      method: "GET",
      url: "http://10.0.0.7:8000/me?a=1",
      consumer,
      token,
      publicUrl: "https://api.example.com",
    });
    expect(signed.baseString.startsWith(`GET&${percentEncode("https://api.example.com/me")}&`)).toBe(true);
    const check = (url: string) =>
      verifier(true)({ method: "GET", url, authorization: signed.authorization });
    await expect(check("https://api.example.com/me?a=1")).resolves.toBeTruthy();
    await expect(check("http://10.0.0.7:8000/me?a=1")).rejects.toMatchObject({
      problem: "signature_invalid",
    });
  });

  it("a changed body, secret or token fails verification", async () => {
    const signed = sign({
      method: "POST",
      url: "http://h/notes",
      consumer,
      token,
      body: '{"a":1}',
      contentType: "application/json",
    });
    await expect(
      verifier(true)({
        method: "POST",
        url: "http://h/notes",
        authorization: signed.authorization,
        contentType: "application/json",
        body: Buffer.from('{"a":2}'),
      }),
    ).rejects.toBeInstanceOf(OAuthError);
    const wrong = sign({
      method: "GET",
      url: "http://h/me",
      consumer: { ...consumer, secret: "nope" },
      token,
    });
    await expect(
      verifier(true)({ method: "GET", url: "http://h/me", authorization: wrong.authorization }),
    ).rejects.toMatchObject({ problem: "signature_invalid" });
  });

  it("percentEncode is RFC 5849 §3.6 (and never throws)", () => {
    expect(percentEncode("a-._~ !*'()+/%&=☃")).toBe("a-._~%20%21%2A%27%28%29%2B%2F%25%26%3D%E2%98%83");
    expect(percentEncode("\uD800x")).toBe("%EF%BF%BDx");
  });

  it("a malformed escape in the query is refused before sending, without echoing it", () => {
    expect(() => sign({ method: "GET", url: "http://h/n?q=secret%ZZ", consumer })).toThrow(
      /malformed percent-escape in a query or form parameter$/,
    );
  });
});
