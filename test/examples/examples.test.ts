// The two examples of docs/calling-signet.md, run as a newcomer runs them (`node
// examples/node/call-signet.mjs`, `python3 examples/python/call_signet.py`), configured only
// by their five variables, against a listening data pod on real PostgreSQL: each logs the
// seeded user in, reads /me, writes a note and prints its id; a wrong secret ends non-zero
// naming signature_invalid. So the page cannot rot.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");
/** Debian's interpreter: the one that sees python3-requests-oauthlib (.ci/run installs it). */
const PYTHON = "/usr/bin/python3";

const EXAMPLES = {
  node: [process.execPath, "examples/node/call-signet.mjs"],
  python: [PYTHON, "examples/python/call_signet.py"],
} as const;

const tdb = useTestDatabase();
const { pod, consumer, user, token } = useDataPod(tdb);

beforeAll(async () => {
  // the Node example imports @signet/client as a service that installed it would: built
  await run(path.join(ROOT, "node_modules/.bin/tsc"), ["-b", "services/client"], { cwd: ROOT });
}, 120_000);

async function example(which: keyof typeof EXAMPLES, secret = consumer.secret) {
  const [command, script] = EXAMPLES[which];
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    SIGNET_DATA_URL: pod.url,
    SIGNET_CONSUMER_KEY: consumer.key,
    SIGNET_CONSUMER_SECRET: secret,
    SIGNET_USERNAME: user.username,
    SIGNET_PASSWORD: user.password,
  };
  try {
    const { stdout, stderr } = await run(command, [script], { cwd: ROOT, env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe.each(Object.keys(EXAMPLES) as (keyof typeof EXAMPLES)[])("the %s example", (which) => {
  it("logs in, reads /me, writes a note and prints its id (exit 0); the note is in PostgreSQL", async () => {
    const result = await example(which);
    expect(result, result.stderr).toMatchObject({ code: 0, stderr: "" });
    const id = result.stdout.trim();
    const note = await tdb.db
      .selectFrom("notes")
      .select(["user_id", "title"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(note).toEqual({
      user_id: user.id,
      title: `Hello from ${which === "node" ? "Node" : "Python"}, ${user.username}`,
    });
  });

  it("a wrong consumer secret: non-zero exit naming signature_invalid", async () => {
    const result = await example(which, "not-the-secret");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error: signature_invalid: /);
  });
});

// What docs/calling-signet.md says of requests-oauthlib as it comes, and why the example has
// its two small classes: even with force_include_body=True, the SHA-1 body hash it sends
// under HMAC-SHA256 is refused.
it("requests-oauthlib's own OAuth1 with force_include_body: 401 body_hash_invalid on a JSON POST", async () => {
  const script = `
import sys, requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1
base, key, secret, tkey, tsecret = sys.argv[1:6]
auth = OAuth1(key, secret, tkey, tsecret, signature_method=SIGNATURE_HMAC_SHA256, force_include_body=True)
res = requests.post(base + "/notes", auth=auth, json={"title": "t", "body": "b"}, timeout=10)
print(res.status_code, res.json()["error"])
`;
  const { stdout } = await run(
    PYTHON,
    ["-c", script, pod.url, consumer.key, consumer.secret, token.key, token.secret],
    { cwd: ROOT, timeout: 30_000 },
  );
  expect(stdout.trim()).toBe("401 body_hash_invalid");
});
