// signetctl end to end: the real CLI (bin/signetctl.js, as a child process) against a
// registry listening on 127.0.0.1, real PostgreSQL and NATS; people and --json output.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { SUBJECTS } from "@signet/shared/bus";
import { useTestDatabase } from "@signet/test-support/db";
import { freePort } from "@signet/test-support/net";
import { waitFor } from "@signet/test-support/wait";
import { ADMIN, SIGNETCTL_BIN, runSignetctl, useRegistry, type CliRun } from "./helpers.js";

const tdb = useTestDatabase();
const registry = useRegistry(tdb, { config: { confirmWindowMs: 100 }, listen: true });

const signetctl = (
  args: string[],
  options: { input?: string; env?: Record<string, string | undefined> } = {},
) => runSignetctl(registry.url, args, options);

/** Value of a "key   value" line of a people-mode block. */
const field = (text: string, name: string) => new RegExp(`^${name}\\s{2,}(.+)$`, "m").exec(text)?.[1];

/** The columns of an aligned table: each header starts at the same offset in every row. */
function columns(text: string): { headers: string[]; rows: Record<string, string>[] } {
  const lines = text.trimEnd().split("\n");
  const header = lines[0]!;
  const starts = [...header.matchAll(/(\S+(?: \S+)*)/g)].map((m) => ({ name: m[1]!, at: m.index! }));
  const rows = lines
    .slice(1)
    .map((line) =>
      Object.fromEntries(
        starts.map((s, i) => [s.name, line.slice(s.at, starts[i + 1]?.at ?? undefined).trim()]),
      ),
    );
  return { headers: starts.map((s) => s.name), rows };
}

// Each CLI run is a fresh Node process; give slow, loaded machines room.
vi.setConfig({ testTimeout: 90_000 });

describe("signetctl consumers", () => {
  it("create, list, show, rotate, revoke: people output", async () => {
    const created = await signetctl([
      "consumers",
      "create",
      "svc-people",
      "--scope",
      "notes:read",
      "--scope",
      "notes:write",
    ]);
    expect(created.code, created.stderr).toBe(0);
    const key = field(created.stdout, "key")!;
    expect(key).toMatch(/^ck_/);
    expect(field(created.stdout, "secret")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(field(created.stdout, "scopes")).toBe("notes:read,notes:write");
    expect(created.stderr).toContain("shown only now");

    await signetctl([
      "consumers",
      "create",
      "a-much-longer-consumer-name-for-alignment",
      "--scopes",
      "*",
      "--json",
    ]);
    const list = await signetctl(["consumers", "list"]);
    expect(list.code).toBe(0);
    const table = columns(list.stdout);
    expect(table.headers).toEqual([
      "KEY",
      "NAME",
      "STATUS",
      "SCOPES",
      "CREATED",
      "REVOKED",
      "EXPIRES",
      "LAST USED",
    ]);
    const row = table.rows.find((r) => r.KEY === key)!;
    expect(row).toMatchObject({
      NAME: "svc-people",
      STATUS: "active",
      SCOPES: "notes:read,notes:write",
      REVOKED: "-",
    });
    expect(row.CREATED).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(table.rows.map((r) => r.NAME)).toContain("a-much-longer-consumer-name-for-alignment");
    expect(list.stdout).not.toContain(field(created.stdout, "secret")!);

    const shown = await signetctl(["consumers", "show", key]);
    expect(field(shown.stdout, "status")).toBe("active");
    const rotated = await signetctl(["consumers", "rotate", key, "--grace-seconds", "30"]);
    expect(rotated.code).toBe(0);
    expect(field(rotated.stdout, "secret")).not.toBe(field(created.stdout, "secret"));
    expect(rotated.stderr).toContain("keeps working for 30 s");

    const revoked = await signetctl(["consumers", "revoke", key, "--reason", "compromised in test", "--yes"]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(field(revoked.stdout, "status")).toBe("revoked");
    expect(field(revoked.stdout, "confirmed pods")).toBe("0");
    expect(field((await signetctl(["consumers", "show", key])).stdout, "status")).toBe("revoked");
  });

  it("create, list, show, rotate, revoke: --json output", async () => {
    const created = JSON.parse(
      (await signetctl(["consumers", "create", "svc-json", "--scopes", "", "--json"])).stdout,
    ) as {
      key: string;
      secret: string;
      status: string;
    };
    expect(created).toMatchObject({ status: "active", scopes: [] });
    const [list, shown, rotated] = await Promise.all([
      signetctl(["--json", "consumers", "list"]),
      signetctl(["consumers", "show", created.key, "--json"]),
      signetctl(["consumers", "rotate", created.key, "--json", "--yes"]),
    ]);
    expect(
      (JSON.parse(list.stdout) as { consumers: { key: string }[] }).consumers.map((c) => c.key),
    ).toContain(created.key);
    expect(JSON.parse(shown.stdout)).toMatchObject({ key: created.key, name: "svc-json", revoked_at: null });
    expect(JSON.parse(rotated.stdout)).toEqual({ key: created.key, secret: expect.any(String) });
    const revoked = await signetctl([
      "consumers",
      "revoke",
      created.key,
      "--reason",
      "json test",
      "--json",
      "--yes",
    ]);
    expect(JSON.parse(revoked.stdout)).toEqual({
      key: created.key,
      status: "revoked",
      revoked_at: expect.any(String),
      confirmed_pods: 0,
    });
  });
});

describe("signetctl users and audit", () => {
  it("users create/list/password/disable and audit, in both modes", async () => {
    const made = await signetctl(
      ["users", "create", "dave", "--display-name", "Dave Davis", "--password-stdin"],
      { input: "dave-password-1\n" },
    );
    expect(made.code, made.stderr).toBe(0);
    expect(field(made.stdout, "username")).toBe("dave");
    const madeJson = await signetctl(
      ["users", "create", "erin", "--display-name", "Erin", "--password-stdin", "--json"],
      { input: "erin-password-1" },
    );
    expect(JSON.parse(madeJson.stdout)).toMatchObject({
      username: "erin",
      display_name: "Erin",
      status: "active",
    });

    const list = columns((await signetctl(["users", "list"])).stdout);
    expect(list.headers).toEqual(["USERNAME", "DISPLAY NAME", "STATUS", "CREATED", "ID"]);
    expect(list.rows.find((r) => r.USERNAME === "dave")).toMatchObject({
      "DISPLAY NAME": "Dave Davis",
      STATUS: "active",
    });
    const listJson = JSON.parse((await signetctl(["users", "list", "--json"])).stdout) as {
      users: { username: string }[];
    };
    expect(listJson.users.map((u) => u.username)).toEqual(expect.arrayContaining(["dave", "erin"]));

    const pw = await signetctl(["users", "password", "dave", "--password-stdin", "--json"], {
      input: "new-dave-password\n",
    });
    expect(JSON.parse(pw.stdout)).toMatchObject({ username: "dave", tokens_revoked: 0, confirmed_pods: 0 });
    const dis = await signetctl(["users", "disable", "erin", "--yes"]);
    expect(field(dis.stdout, "status")).toBe("disabled");

    const audit = columns((await signetctl(["audit", "--limit", "4"])).stdout);
    expect(audit.headers).toEqual(["AT", "ACTOR", "ACTION", "TARGET", "DETAILS"]);
    expect(audit.rows.map((r) => [r.ACTION, r.TARGET, r.ACTOR])).toEqual([
      ["user.disable", "erin", ADMIN.name],
      ["user.password", "dave", ADMIN.name],
      ["user.create", "erin", ADMIN.name],
      ["user.create", "dave", ADMIN.name],
    ]);
    const auditJson = JSON.parse((await signetctl(["audit", "--json", "--limit", "1"])).stdout) as {
      events: unknown[];
    };
    expect(auditJson.events).toEqual([
      {
        at: expect.any(String),
        actor: ADMIN.name,
        action: "user.disable",
        target: "erin",
        details: expect.any(Object),
      },
    ]);
  });
});

describe("signetctl pods", () => {
  it("lists the data pods the registry knows, by name, in both modes; a pod that said goodbye is gone", async () => {
    const empty = await signetctl(["pods"]);
    expect([empty.code, empty.stdout.trim()]).toEqual([0, "(no data pods known)"]);
    expect(JSON.parse((await signetctl(["pods", "--json"])).stdout)).toEqual({ pods: [] });

    // two pods announce themselves on the registry's NATS (the data service's heartbeat shape)
    const beat = (pod: string, interval_ms: number) =>
      registry.app.bus.publish(SUBJECTS.podHeartbeat, { pod, at: new Date().toISOString(), interval_ms });
    await beat("pod-zulu", 60_000);
    await beat("pod-alpha-with-a-long-name", 90_500);
    await waitFor("the registry to know both pods", () => registry.app.podPresence.known().length >= 2);

    const [people, json] = await Promise.all([signetctl(["pods"]), signetctl(["--json", "pods"])]);
    expect(people.code, people.stderr).toBe(0);
    const table = columns(people.stdout);
    expect(table.headers).toEqual(["POD", "LAST SEEN", "INTERVAL"]);
    expect(table.rows.map((r) => [r.POD, r.INTERVAL])).toEqual([
      ["pod-alpha-with-a-long-name", "90.5s"],
      ["pod-zulu", "60s"],
    ]);
    for (const row of table.rows) expect(row["LAST SEEN"]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      pods: [
        { pod: "pod-alpha-with-a-long-name", last_seen: expect.any(String), interval_ms: 90_500 },
        { pod: "pod-zulu", last_seen: expect.any(String), interval_ms: 60_000 },
      ],
    });

    await registry.app.bus.publish(SUBJECTS.podGoodbye, {
      pod: "pod-alpha-with-a-long-name",
      at: new Date().toISOString(),
    });
    await waitFor("the goodbye to reach the registry", () => registry.app.podPresence.known().length <= 1);
    const after = JSON.parse((await signetctl(["pods", "--json"])).stdout) as { pods: { pod: string }[] };
    expect(after.pods.map((p) => p.pod)).toEqual(["pod-zulu"]);
    await registry.app.bus.publish(SUBJECTS.podGoodbye, { pod: "pod-zulu", at: new Date().toISOString() });
  });
});

describe("signetctl failures and help", () => {
  it("exit 4 on a wrong or missing token, 3 when unreachable, 2 on usage, 1 on an API error", async () => {
    const deadPort = await freePort();
    const [wrong, missing, unreachable, unknownVerb, noReason, notFound, badOption, jsonError] =
      await Promise.all([
        signetctl(["consumers", "list"], { env: { SIGNET_ADMIN_TOKEN: "not-the-token-not-the-token" } }),
        signetctl(["consumers", "list"], { env: { SIGNET_ADMIN_TOKEN: undefined } }),
        signetctl(["consumers", "list"], { env: { SIGNET_REGISTRY_URL: `http://127.0.0.1:${deadPort}` } }),
        signetctl(["consumers", "frobnicate"]),
        signetctl(["consumers", "revoke", "ck_whatever"]),
        signetctl(["consumers", "show", "ck_does_not_exist"]),
        signetctl(["audit", "--bogus"]),
        signetctl(["consumers", "show", "ck_does_not_exist", "--json"]),
      ]);
    expect([wrong.code, wrong.stderr]).toEqual([
      4,
      expect.stringContaining("rejected SIGNET_ADMIN_TOKEN (401"),
    ]);
    expect([missing.code, missing.stderr]).toEqual([
      4,
      expect.stringContaining("SIGNET_ADMIN_TOKEN is not set"),
    ]);
    expect([unreachable.code, unreachable.stderr]).toEqual([
      3,
      expect.stringContaining(`cannot reach the registry at http://127.0.0.1:${deadPort}`),
    ]);
    expect([unknownVerb.code, unknownVerb.stderr]).toEqual([
      2,
      expect.stringContaining('unknown verb "frobnicate"'),
    ]);
    expect([noReason.code, noReason.stderr]).toEqual([2, expect.stringContaining("--reason")]);
    expect([notFound.code, notFound.stderr]).toEqual([1, expect.stringContaining("not_found")]);
    expect(badOption.code).toBe(2);
    expect(jsonError.code).toBe(1);
    expect(JSON.parse(jsonError.stderr)).toMatchObject({ error: "not_found", exit_code: 1 });
    for (const run of [wrong, missing, unreachable, notFound]) expect(run.stdout).toBe("");
  });

  it("--help everywhere, with the exit codes documented", async () => {
    const [top, noun, verb, auditHelp, bare, podsHelp, podsExtra] = await Promise.all([
      signetctl(["--help"]),
      signetctl(["users", "--help"]),
      signetctl(["consumers", "revoke", "--help"]),
      signetctl(["audit", "-h"]),
      signetctl([]),
      signetctl(["pods", "--help"]),
      signetctl(["pods", "extra"]),
    ]);
    for (const run of [top, noun, verb, auditHelp, podsHelp]) {
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("Exit codes:");
      expect(run.stdout).toMatch(/3 {2}the registry is unreachable/);
    }
    expect(top.stdout).toContain("consumers revoke");
    expect(noun.stdout).toContain("signetctl users password <username> [--password-stdin]");
    expect(verb.stdout).toContain("Usage: signetctl consumers revoke <key> --reason <text>");
    expect(auditHelp.stdout).toContain("--limit <n>");
    expect(top.stdout).toMatch(/^ {2}pods {2,}list the data pods/m);
    expect(podsHelp.stdout).toContain("Usage: signetctl pods");
    expect(podsHelp.stdout).toContain("LAST SEEN");
    expect([podsExtra.code, podsExtra.stderr]).toEqual([
      2,
      expect.stringContaining('unexpected argument "extra"'),
    ]);
    expect(bare.code).toBe(2);
  });

  it("is linked as a bin at the repository root (npx signetctl)", async () => {
    const linked = fileURLToPath(new URL("../../../node_modules/.bin/signetctl", import.meta.url));
    const run = await new Promise<CliRun>((resolve, reject) => {
      const child = spawn(linked, ["--help"], { env: { ...process.env, SIGNETCTL_FROM_SOURCE: "1" } });
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr: "" }));
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: signetctl <noun> <verb>");
  });
});

describe("signetctl consumers create: scopes", () => {
  /** signetctl on a terminal (script(1) gives it a pty): `answer` is typed once the scopes are asked for. */
  function onTerminal(args: string[], answer: string): Promise<{ code: number | null; text: string }> {
    const command = [process.execPath, SIGNETCTL_BIN, ...args]
      .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
      .join(" ");
    return new Promise((resolve, reject) => {
      const child = spawn("script", ["-qec", command, "/dev/null"], {
        env: {
          ...process.env,
          SIGNETCTL_FROM_SOURCE: "1",
          SIGNET_REGISTRY_URL: registry.url,
          SIGNET_ADMIN_TOKEN: ADMIN.token,
        },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let text = "";
      let typed = false;
      child.stdout.on("data", (d: Buffer) => {
        text += d.toString();
        if (!typed && text.includes("Scopes for")) {
          typed = true;
          child.stdin.write(`${answer}\r`);
        }
      });
      child.stderr.on("data", (d: Buffer) => (text += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, text }));
    });
  }

  it('--scopes a,b grants those; * everything; "" nothing (said on stderr)', async () => {
    const listed = await signetctl([
      "consumers",
      "create",
      "svc-listed",
      "--scopes",
      "authenticate,client-address",
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(field(listed.stdout, "scopes")).toBe("authenticate,client-address");
    const all = JSON.parse(
      (await signetctl(["consumers", "create", "svc-all", "--scopes", "*", "--json"])).stdout,
    );
    expect(all.scopes).toEqual(["*"]);
    const none = await signetctl(["consumers", "create", "svc-none", "--scopes", ""]);
    expect(none.code, none.stderr).toBe(0);
    expect(field(none.stdout, "scopes")).toBe("(none)");
    expect(none.stderr).toContain("granted no scope");
  });

  it("an unknown scope name, or no --scopes without a terminal, exits 2 and creates nothing", async () => {
    for (const args of [
      ["consumers", "create", "svc-typo", "--scopes", "notes:reed"],
      ["consumers", "create", "svc-typo", "--scope", "admin"],
      ["consumers", "create", "svc-typo"],
      ["consumers", "create", "svc-typo", "--json"],
    ]) {
      const run = await signetctl(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stdout).toBe("");
    }
    expect((await signetctl(["consumers", "create", "svc-typo", "--scopes", "bogus"])).stderr).toMatch(
      /unknown scope "bogus"; the scopes are authenticate, users:create/,
    );
    const list = JSON.parse((await signetctl(["consumers", "list", "--json"])).stdout) as {
      consumers: { name: string }[];
    };
    expect(list.consumers.map((c) => c.name)).not.toContain("svc-typo");
  });

  it("on a terminal without --scopes, asks for them; an unknown one typed there exits 2 too", async () => {
    const asked = await onTerminal(["consumers", "create", "svc-asked"], "notes:read, notes:write");
    expect(asked.code, asked.text).toBe(0);
    expect(asked.text).toMatch(/scopes\s+notes:read,notes:write/);
    const typo = await onTerminal(["consumers", "create", "svc-asked-typo"], "notes:read,bogus");
    expect(typo.code, typo.text).toBe(2);
    expect(typo.text).toContain('unknown scope "bogus"');
  });
});

describe("signetctl credential lifecycle", () => {
  it("expiry, update, rotate with finish-when-quiet, rotate-finish, revoke-tokens, signout-everywhere, revoke-all", async () => {
    const created = JSON.parse(
      (await signetctl(["consumers", "create", "svc-life", "--scopes", "*", "--expires", "30d", "--json"]))
        .stdout,
    ) as { key: string; expires_at: string };
    expect(new Date(created.expires_at).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const key = created.key;
    await registry.inject({
      method: "POST",
      url: "/users",
      headers: { authorization: `Bearer ${ADMIN.token}` },
      payload: { username: "frank", password: "frank-password-1", display_name: "Frank" },
    });

    const [unconfirmed, badScope, listed, noYesAll, badGrace] = await Promise.all([
      signetctl(["consumers", "update", key, "--scopes", "notes:read"]),
      signetctl(["consumers", "update", key, "--scopes", "notes:admin", "--yes"]),
      signetctl(["consumers", "list", "--expiring-within", "60d"]),
      signetctl(["revoke-all", "--before", "now", "--reason", "drill"]),
      signetctl(["consumers", "rotate", key, "--grace", "soon"]),
    ]);
    expect([unconfirmed.code, unconfirmed.stderr]).toEqual([
      2,
      expect.stringContaining("refusing without --yes"),
    ]);
    expect([badScope.code, badScope.stderr]).toEqual([
      2,
      expect.stringContaining('unknown scope "notes:admin"'),
    ]);
    expect(listed.stdout).toContain(key);
    expect(columns(listed.stdout).headers).toEqual(expect.arrayContaining(["EXPIRES", "LAST USED"]));
    expect([noYesAll.code, noYesAll.stderr]).toEqual([2, expect.stringContaining("refusing without --yes")]);
    expect(badGrace.code).toBe(2);

    const updated = await signetctl([
      "consumers",
      "update",
      key,
      "--scopes",
      "notes:read",
      "--expires",
      "never",
      "--yes",
      "--json",
    ]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({
      key,
      scopes: ["notes:read"],
      expires_at: null,
      confirmed_pods: 0,
    });

    const rotated = await signetctl([
      "consumers",
      "rotate",
      key,
      "--grace",
      "1h",
      "--finish-when-quiet",
      "5m",
      "--json",
    ]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const [shownJson, shown] = await Promise.all([
      signetctl(["consumers", "show", key, "--json"]),
      signetctl(["consumers", "show", key]),
    ]);
    const detail = JSON.parse(shownJson.stdout) as {
      secrets: { ends_at: string | null; finish_when_quiet_seconds: number | null }[];
    };
    expect(detail.secrets).toHaveLength(2);
    expect(detail.secrets[1]).toMatchObject({ finish_when_quiet_seconds: 300 });
    expect(new Date(detail.secrets[1]!.ends_at!).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(field(shown.stdout, "expires")).toBe("never");
    expect(field(shown.stdout, "last used")).toBe("never");
    expect(shown.stdout).toMatch(/^SECRET\s+CREATED\s+ENDS\s+FINISH WHEN QUIET\s+LAST USED$/m);
    expect(shown.stdout).toContain("300 s");

    const [finished, tokens, signout, all] = await Promise.all([
      signetctl(["consumers", "rotate-finish", key, "--yes", "--json"]),
      signetctl(["consumers", "revoke-tokens", key, "--reason", "drill", "--yes", "--json"]),
      signetctl(["users", "signout-everywhere", "frank", "--yes", "--json"]),
      signetctl(["revoke-all", "--before", "now", "--reason", "drill", "--yes", "--json"]),
    ]);
    expect(JSON.parse(finished.stdout)).toEqual({ key, confirmed_pods: 0 });
    expect(JSON.parse(tokens.stdout)).toEqual({ key, revoked_tokens: 0, confirmed_pods: 0 });
    expect(JSON.parse(signout.stdout)).toEqual({ username: "frank", revoked_tokens: 0, confirmed_pods: 0 });
    expect(JSON.parse(all.stdout)).toEqual({ issued_before: expect.any(String), confirmed_pods: 0 });
    const afterFinish = JSON.parse((await signetctl(["consumers", "show", key, "--json"])).stdout) as {
      secrets: unknown[];
    };
    expect(afterFinish.secrets).toHaveLength(1);
  });

  it("--help names the new verbs and the valid scopes", async () => {
    const [top, update, rotate] = await Promise.all([
      signetctl(["--help"]),
      signetctl(["consumers", "update", "--help"]),
      signetctl(["consumers", "rotate", "--help"]),
    ]);
    for (const verb of [
      "consumers rotate-finish",
      "consumers revoke-tokens",
      "users signout-everywhere",
      "revoke-all",
    ]) {
      expect(top.stdout).toContain(verb);
    }
    expect(update.stdout).toContain(
      "Known scopes: authenticate, users:create, notes:read, notes:write, client-address, *",
    );
    expect(rotate.stdout).toContain("--finish-when-quiet <duration>");
  });
});
