// signetctl prints no control character a terminal would act on (docs/api.md, "signetctl"):
// rows stored before the APIs refused them (or written past the API) hold ESC, BEL, C1 and
// bidi controls; `users list` and `consumers list`, for people and with --json, show them as
// \uXXXX escapes, and the JSON still reads back to the stored text. The CLI runs in-process
// (main()) against a registry listening on 127.0.0.1.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createConsumer, createUser } from "@signet/shared/repos";
import { CONTROL_CHARACTERS as RULES_CONTROL_CHARACTERS } from "@signet/shared/rules";
import { useTestDatabase } from "@signet/test-support/db";
import { keyring } from "@signet/test-support/keys";
import { main } from "../src/cli/cli.js";
import { CONTROL_CHARACTERS, escapeControls } from "../src/cli/output.js";
import { ADMIN, useRegistry } from "./helpers.js";

const tdb = useTestDatabase();
const registry = useRegistry(tdb, { config: { confirmWindowMs: 100 }, listen: true });

const CONTROL = new RegExp(`[${RULES_CONTROL_CHARACTERS}]`, "u");
/** Whether `text` holds a control character other than the line feeds between its lines. */
const rawControl = (text: string) => CONTROL.test(text.replaceAll("\n", ""));
// everything a terminal acts on that PostgreSQL text can hold (all but NUL)
const EVIL = "Eve\u001b]0;owned\u0007\u001b[2J\u0085\u009b31m\u202egnp.exe\u2066x\u2069\u007f\u0001\r\ty";

/** Runs signetctl in this process; what it wrote to stdout and stderr. */
async function signetctl(args: string[]) {
  let stdout = "";
  let stderr = "";
  const capture = (into: "out" | "err") => (chunk: string | Uint8Array) => {
    if (into === "out") stdout += String(chunk);
    else stderr += String(chunk);
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(capture("out"));
  vi.spyOn(process.stderr, "write").mockImplementation(capture("err"));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

beforeAll(async () => {
  process.env.SIGNET_REGISTRY_URL = registry.url;
  process.env.SIGNET_ADMIN_TOKEN = ADMIN.token;
  await createUser(tdb.db, { username: "evil-user", password: "correct horse battery", display_name: EVIL });
  await createConsumer(tdb.db, keyring, { name: EVIL, scopes: ["*"], key: "ck_evil" });
});
afterEach(() => vi.restoreAllMocks());

describe("escaping", () => {
  it("escapes the set the APIs refuse (one list, held to @signet/shared/rules)", () => {
    expect(CONTROL_CHARACTERS).toBe(RULES_CONTROL_CHARACTERS);
    expect(escapeControls("a\u001b[2J\u0085\u202eb\nc")).toBe("a\\u001b[2J\\u0085\\u202eb\\u000ac");
    expect(escapeControls("a\nb\u0007", true)).toBe("a\nb\\u0007");
    expect(escapeControls("Zürich ☃ 東京")).toBe("Zürich ☃ 東京");
  });
});

describe.each([
  [
    "users",
    "evil-user",
    (body: Record<string, { username?: string; display_name?: string }[]>) =>
      body.users!.find((u) => u.username === "evil-user")!.display_name,
  ],
  [
    "consumers",
    "ck_evil",
    (body: Record<string, { key?: string; name?: string }[]>) =>
      body.consumers!.find((c) => c.key === "ck_evil")!.name,
  ],
] as const)("signetctl %s list", (noun, id, stored) => {
  it("for people: no raw control character, each one shown as \\uXXXX", async () => {
    const run = await signetctl([noun, "list"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(id);
    expect(rawControl(run.stdout)).toBe(false);
    for (const escape of ["\\u001b]0;owned\\u0007", "\\u0085", "\\u009b31m", "\\u202egnp.exe", "\\u0001"]) {
      expect(run.stdout).toContain(escape);
    }
  });

  it("--json: no raw control character either (C1 and bidi too), and it reads back to the stored text", async () => {
    const run = await signetctl([noun, "list", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(rawControl(run.stdout)).toBe(false);
    expect(run.stdout).toContain("\\u202e");
    expect(stored(JSON.parse(run.stdout))).toBe(EVIL);
  });
});

it("what the operator typed comes back escaped too (a usage error quoting it)", async () => {
  const run = await signetctl(["\u001b[2Jconsumers\u202e"]);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain("\\u001b[2Jconsumers\\u202e");
  expect(rawControl(run.stderr)).toBe(false);
});
