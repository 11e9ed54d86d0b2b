// Bad input never reaches a 5xx: malformed headers, oversized bodies, wrong content types,
// unicode and very long usernames, SQL metacharacters, NUL bytes — clean 4xx with the
// contract's codes.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { LightMyRequestResponse } from "fastify";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { signedInject, signedRequest, type SignedOptions } from "@signet/test-support/signed";

const tdb = useTestDatabase();
const { pod, consumer, user, token } = useDataPod(tdb, {
  listen: false,
  // generous login limits: this file hammers /authenticate on purpose
  config: { loginLimitPerUser: 10_000, loginLimitPerAddress: 10_000 },
});

const CODES = new Set([
  "parameter_absent",
  "parameter_rejected",
  "version_rejected",
  "signature_method_rejected",
  "signature_invalid",
  "timestamp_refused",
  "nonce_used",
  "consumer_key_unknown",
  "consumer_key_rejected",
  "token_rejected",
  "token_revoked",
  "token_expired",
  "body_hash_invalid",
  "invalid_credentials",
  "user_disabled",
  "insufficient_scope",
  "not_found",
  "invalid_input",
  "rate_limited",
  "username_taken",
]);

function expectClean4xx(res: LightMyRequestResponse, status?: number, code?: string) {
  expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
  expect(res.statusCode, res.body).toBeLessThan(500);
  const body = res.json() as { error: string; message: string };
  expect(CODES.has(body.error), body.error).toBe(true);
  expect(typeof body.message).toBe("string");
  if (status) expect(res.statusCode).toBe(status);
  if (code) expect(body.error).toBe(code);
}

/** Sends `options` signed to the app: the answer must be a clean 4xx (`status` and `code` when given). */
async function expectRejected(options: SignedOptions, status?: number, code?: string) {
  expectClean4xx(await signedInject(pod.app, options), status, code);
}

const postNote = (json: unknown): SignedOptions => ({ method: "POST", url: "/notes", consumer, token, json });
const signUp = (json: unknown): SignedOptions => ({ method: "POST", url: "/users", consumer, json });
const authenticate = (body: Pick<SignedOptions, "json" | "form">): SignedOptions => ({
  method: "POST",
  url: "/authenticate",
  consumer,
  ...body,
});

describe("malformed headers", () => {
  it.each([
    ["empty scheme", "OAuth"],
    ["spaces only", "OAuth    "],
    ["another scheme", "Bearer abc"],
    ["unterminated quote", 'OAuth oauth_consumer_key="abc'],
    ["no quotes", "OAuth oauth_consumer_key=abc"],
    ["bad percent escape", 'OAuth oauth_consumer_key="%zz"'],
    ["unknown parameter", 'OAuth oauth_evil="1"'],
    ["latin-1 bytes", 'OAuth oauth_consumer_key="caf\u00e9"'],
    ["very long", `OAuth oauth_consumer_key="${"a".repeat(10_000)}"`],
    [
      "SQL in the key",
      `OAuth oauth_consumer_key="x'%3B%20drop%20table%20consumers%3B--", oauth_signature_method="HMAC-SHA256", oauth_signature="x", oauth_timestamp="${Math.floor(Date.now() / 1000)}", oauth_nonce="n"`,
    ],
  ])("%s → clean 4xx", async (_label, authorization) => {
    const res = await pod.app.inject({ method: "GET", url: "/me", headers: { authorization } });
    expectClean4xx(res);
    expect(res.statusCode === 400 || res.statusCode === 401).toBe(true);
  });

  it("oauth_* parameters in the query → 400 parameter_rejected; a malformed query → 4xx", async () => {
    await expectRejected(
      { method: "GET", url: "/notes?oauth_token=x", consumer, token },
      400,
      "parameter_rejected",
    );
    const req = signedRequest({ method: "GET", url: "/notes", consumer, token });
    req.url = "/notes?a=%zz&b=%";
    expectClean4xx(await pod.app.inject(req));
  });

  it("random header values never cause a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (s) => {
        const value = `OAuth ${s}`.replace(/[\r\n]/g, " ");
        let res: LightMyRequestResponse;
        try {
          res = await pod.app.inject({ method: "GET", url: "/me", headers: { authorization: value } });
        } catch {
          return; // light-my-request refused to send an invalid header value: nothing reached the app
        }
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });
});

describe("bodies", () => {
  it("an oversized body → 413 invalid_input", async () => {
    await expectRejected(postNote({ title: "t", body: "x".repeat(70 * 1024) }), 413, "invalid_input");
    await expectRejected(
      authenticate({ form: { username: "u".repeat(70 * 1024), password: "p" } }),
      413,
      "invalid_input",
    );
  });

  it("wrong content types → 400 invalid_input once signed, 401 when not", async () => {
    const text = { body: "title=a&body=b", contentType: "text/plain" };
    await expectRejected({ method: "POST", url: "/notes", consumer, token, ...text }, 400, "invalid_input");
    const xml = { body: "<login/>", contentType: "application/xml" };
    await expectRejected({ method: "POST", url: "/authenticate", consumer, ...xml }, 400, "invalid_input");
    const unsigned = await pod.app.inject({
      method: "POST",
      url: "/notes",
      headers: { "content-type": "text/plain" },
      payload: "hello",
    });
    expectClean4xx(unsigned, 401, "parameter_absent");
    const multipart = { body: "--x\r\n\r\n--x--", contentType: "multipart/form-data; boundary=x" };
    await expectRejected({ method: "POST", url: "/users", consumer, ...multipart }, 400, "invalid_input");
  });

  it("malformed JSON → 400 invalid_input; JSON of the wrong shape → 400 invalid_input", async () => {
    const notJson = { body: "{not json", contentType: "application/json" };
    await expectRejected(
      { method: "POST", url: "/notes", consumer, token, ...notJson },
      400,
      "invalid_input",
    );
    await expectRejected(postNote(["a", "b"]), 400, "invalid_input");
    await expectRejected(postNote("just a string"), 400, "invalid_input");
    await expectRejected(postNote({ title: { $ne: 1 }, body: "x" }), 400, "invalid_input");
    await expectRejected(postNote({ __proto__: { admin: true }, title: "x" }), 400, "invalid_input");
  });

  it("NUL bytes in stored text → 400 invalid_input (PostgreSQL cannot store them)", async () => {
    await expectRejected(postNote({ title: "a\u0000b", body: "x" }), 400, "invalid_input");
    await expectRejected(
      signUp({ username: "nulname", password: "password123", display_name: "a\u0000" }),
      400,
      "invalid_input",
    );
    await expectRejected(
      authenticate({ json: { username: "a\u0000b", password: "pw\u0000" } }),
      400,
      "invalid_input",
    );
  });
});

describe("control characters: C0, DEL, C1, bidi controls (docs/api.md, 'Limits')", () => {
  const CONTROLS = ["\u0000", "\u0007", "\u001b[2J", "\u007f", "\u0085", "\u009b", "\u202e", "\u2067"];
  const note = (title: string, body: string) => signedInject(pod.app, postNote({ title, body }));

  it.each(CONTROLS.map((c) => [JSON.stringify(c), c]))(
    "%s in a display name, a note title or body, a login username → 400 invalid_input",
    async (_label, c) => {
      await expectRejected(
        signUp({ username: "ctrl-user", password: "password123", display_name: `Eve${c}` }),
        400,
        "invalid_input",
      );
      expectClean4xx(await note(`title${c}`, "body"), 400, "invalid_input");
      expectClean4xx(await note("title", `body${c}`), 400, "invalid_input");
      await expectRejected(
        authenticate({ form: { username: `a${c}b`, password: "whatever1" } }),
        400,
        "invalid_input",
      );
    },
  );

  it("a note's body may hold line breaks and tabs; a title or a display name may not", async () => {
    const multiLine = "line one\r\nline two\n\tindented";
    const created = await note("one line", multiLine);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().body).toBe(multiLine);
    for (const c of ["\n", "\r", "\t"]) {
      expectClean4xx(await note(`two${c}lines`, "x"), 400, "invalid_input");
      await expectRejected(
        signUp({ username: "two-lines", password: "password123", display_name: `a${c}b` }),
        400,
        "invalid_input",
      );
    }
  });

  it("in a query → 400 invalid_input, before the signature is looked at", async () => {
    for (const q of ["q=%1B%5B2J", "q=%C2%85", "q=%E2%80%AE", "%00=x"]) {
      const unsigned = await pod.app.inject({ method: "GET", url: `/notes?${q}` });
      expectClean4xx(unsigned, 400, "invalid_input");
    }
  });
});

describe("parameter rules: at most 100, each name once (docs/api.md, 'Limits')", () => {
  const params = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `p${from + i}=${i}`).join("&");
  const formPost = (body: string, url = "/authenticate") =>
    pod.app.inject({
      method: "POST",
      url,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: body,
    });

  it("more than 100 query or form parameters → 400 invalid_input, unsigned, before they are read", async () => {
    expectClean4xx(await pod.app.inject({ method: "GET", url: `/me?${params(101)}` }), 400, "invalid_input");
    // 9,000 short parameters (within the body limit): counted, never decoded
    const many = Array.from({ length: 9_000 }, (_, i) => i.toString(36)).join("&");
    const big = await formPost(`username=u&password=p&${many}`);
    expectClean4xx(big, 400, "invalid_input");
    expect(big.json().message).toContain("more than 100");
    // query and form body together
    expectClean4xx(await formPost(params(41, 60), `/authenticate?${params(60)}`), 400, "invalid_input");
  });

  it("100 signed parameters are fine; empty segments are no parameters", async () => {
    const res = await signedInject(pod.app, { method: "GET", url: `/me?${params(100)}&&`, consumer, token });
    expect(res.statusCode, res.body).toBe(200);
  });

  it("a repeated name in the query, in a form body, or in both → 400 invalid_input", async () => {
    expectClean4xx(await pod.app.inject({ method: "GET", url: "/me?a=1&b=2&a=3" }), 400, "invalid_input");
    expectClean4xx(await pod.app.inject({ method: "GET", url: "/me?a=1&%61=2" }), 400, "invalid_input");
    expectClean4xx(await formPost("username=x&password=y&username=z"), 400, "invalid_input");
    expectClean4xx(await formPost("username=x&password=y", "/authenticate?username=z"), 400, "invalid_input");
    // signed: the base string sorts a name's values, so they could be swapped unnoticed — refused
    const twice = "username=mallory&password=whatever1&username=" + encodeURIComponent(user.username);
    const contentType = "application/x-www-form-urlencoded";
    await expectRejected({ ...authenticate({}), body: twice, contentType }, 400, "invalid_input");
  });
});

describe("malformed URLs", () => {
  it.each(["/%ZZ", "/notes/%E0%A4%A", "/me/%"])("%s → 400 in the JSON error shape", async (url) => {
    const res = await pod.app.inject({ method: "GET", url });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toContain("application/json");
    expect(res.json()).toEqual({ error: "invalid_input", message: expect.any(String) });
  });
});

describe("usernames and SQL metacharacters", () => {
  it.each([
    ["unicode", "żółć-ユーザー"],
    ["emoji", "🙂🙂🙂"],
    ["SQL quote", "admin'--"],
    ["SQL tautology", "' OR '1'='1"],
    ["SQL statement", "x'; drop table users; --"],
    ["percent wildcard", "%"],
    ["underscore wildcard", "___"],
    ["long (256)", "a".repeat(256)],
  ])("login with a %s username → 401 invalid_credentials", async (_label, username) => {
    await expectRejected(
      authenticate({ form: { username, password: "whatever1" } }),
      401,
      "invalid_credentials",
    );
  });

  it("a very long username → 400 invalid_input at login and at sign-up", async () => {
    await expectRejected(
      authenticate({ json: { username: "a".repeat(5000), password: "x" } }),
      400,
      "invalid_input",
    );
    await expectRejected(
      signUp({ username: "a".repeat(65), password: "password123", display_name: "L" }),
      400,
      "invalid_input",
    );
  });

  it.each([
    ["unicode", "żółć"],
    ["SQL", "x';drop table users;--"],
    ["spaces", "a b c"],
    ["empty", ""],
  ])("sign-up with a %s username → 400 invalid_input", async (_label, username) => {
    await expectRejected(
      signUp({ username, password: "password123", display_name: "X" }),
      400,
      "invalid_input",
    );
  });

  it("SQL metacharacters in note text are stored verbatim; the users table is intact", async () => {
    const title = "'); delete from notes; --";
    const body = "\\x00 $1 %s ' \" ; -- /* */ 🙂 ".repeat(20);
    const res = await signedInject(pod.app, postNote({ title, body }));
    expect(res.statusCode).toBe(201);
    const back = await signedInject(pod.app, {
      method: "GET",
      url: `/notes/${res.json().id}`,
      consumer,
      token,
    });
    expect(back.json()).toMatchObject({ title, body });
    const me = await signedInject(pod.app, { method: "GET", url: "/me", consumer, token });
    expect(me.json().username).toBe(user.username);
  });

  it("random login and sign-up inputs never cause a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 80, unit: "grapheme" }),
        fc.string({ maxLength: 40, unit: "grapheme" }),
        async (username, password) => {
          expectClean4xx(await signedInject(pod.app, authenticate({ json: { username, password } })));
          const signup = await signedInject(pod.app, {
            method: "POST",
            url: "/users",
            consumer,
            form: { username, password, display_name: username },
          });
          if (signup.statusCode !== 201) expectClean4xx(signup);
        },
      ),
      { numRuns: 40 },
    );
  });
});
