// signetctl's front door, as an operator meets it: the real CLI (bin/signetctl.js, a child
// process) — --version, "did you mean" for a mistyped noun, verb or option, unknown options
// in our words, --url errors naming the flag, and an answer that is not the registry's (the
// frontend's HTML page, the data service's OAuth refusal) reported as such, never dumped.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { freePort } from "@signet/test-support/net";
import { closest, editDistance } from "../src/cli/suggest.js";
import { runSignetctl, useRegistry } from "./helpers.js";

const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
const tdb = useTestDatabase();
const registry = useRegistry(tdb, { listen: true });
const { pod } = useDataPod(tdb);

/** A stand-in for the frontend on the wrong port: every path an HTML page. */
let htmlServer: Server;
let htmlUrl: string;
const PAGE =
  "<!doctype html><html><head><title>Log in</title></head><body><form>SECRET-PAGE-BODY</form></body></html>";
beforeAll(async () => {
  htmlServer = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => htmlServer.listen(0, "127.0.0.1", resolve));
  htmlUrl = `http://127.0.0.1:${(htmlServer.address() as { port: number }).port}`;
});
afterAll(() => new Promise((resolve) => htmlServer.close(resolve)));

const signetctl = (args: string[], env: Record<string, string | undefined> = {}, input = "") =>
  runSignetctl(registry.url, args, { env, input });

// Each run is a fresh Node process; give slow, loaded machines room.
vi.setConfig({ testTimeout: 90_000 });

describe("signetctl's front door", () => {
  it("--version prints the version and exits 0; the help mentions it", async () => {
    const [long, short, help] = await Promise.all([
      signetctl(["--version"]),
      signetctl(["-V"]),
      signetctl(["--help"]),
    ]);
    expect(long).toEqual({ code: 0, stdout: `signetctl ${VERSION}\n`, stderr: "" });
    expect(short.stdout).toBe(`signetctl ${VERSION}\n`);
    expect(help.stdout).toContain("--version");
  });

  it("a mistyped noun or verb: exit 2 with a did-you-mean and the valid words", async () => {
    const [noun, verb, swapped, nothingClose] = await Promise.all([
      signetctl(["consumer", "list"]),
      signetctl(["consumers", "lsit"]),
      signetctl(["users", "disabel", "jane"]),
      signetctl(["frobnicate"]),
    ]);
    expect(noun.code).toBe(2);
    expect(noun.stderr).toContain(
      'unknown command "consumer"; did you mean "consumers"? (the commands: consumers, users',
    );
    expect(verb.code).toBe(2);
    expect(verb.stderr).toContain('unknown verb "lsit" for consumers; did you mean "list"?');
    expect(swapped.stderr).toContain('did you mean "disable"?');
    expect(nothingClose.code).toBe(2);
    expect(nothingClose.stderr).not.toContain("did you mean");
    expect(nothingClose.stderr).toContain("(the commands: consumers, users");
    for (const run of [noun, verb, swapped, nothingClose]) expect(run.stdout).toBe("");
  });

  it("unknown options and option values in our words, nearest option suggested", async () => {
    const [unknown, missingValue, valueOnFlag, topLevel, json] = await Promise.all([
      signetctl(["consumers", "create", "svc", "--scope", "notes:read", "--scoeps", "x"]),
      signetctl(["consumers", "list", "--url"]),
      signetctl(["consumers", "list", "--json=yes"]),
      signetctl(["--verison"]),
      signetctl(["audit", "--limt", "5", "--json"]),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      "signetctl consumers create has no option --scoeps; did you mean --scopes?",
    );
    expect(unknown.stderr).toMatch(/its options: .*--scopes.*--json, --url, --help/);
    expect(unknown.stderr).not.toContain("To specify a positional argument"); // node's wording
    expect([missingValue.code, missingValue.stderr]).toEqual([
      2,
      expect.stringContaining("--url needs a value"),
    ]);
    expect([valueOnFlag.code, valueOnFlag.stderr]).toEqual([
      2,
      expect.stringContaining("--json takes no value"),
    ]);
    expect([topLevel.code, topLevel.stderr]).toEqual([
      2,
      expect.stringContaining("unknown option --verison; did you mean --version?"),
    ]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({
      error: "usage",
      exit_code: 2,
      message: expect.stringContaining("did you mean --limit?"),
    });
  });

  it("--url: used over SIGNET_REGISTRY_URL, and every error about it names the flag", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const [viaFlag, notUrl, unreachable, envUnreachable] = await Promise.all([
      signetctl(["pods", "--url", registry.url], { SIGNET_REGISTRY_URL: dead }),
      signetctl(["pods", "--url", "registry:8001"]),
      signetctl(["pods", "--url", dead]),
      signetctl(["pods"], { SIGNET_REGISTRY_URL: dead }),
    ]);
    expect(viaFlag.code).toBe(0);
    expect([notUrl.code, notUrl.stderr]).toEqual([
      2,
      expect.stringContaining('--url is not an http(s) URL: "registry:8001"'),
    ]);
    expect([unreachable.code, unreachable.stderr]).toEqual([
      3,
      expect.stringMatching(/cannot reach the registry at .*; check --url\n/),
    ]);
    expect(envUnreachable.stderr).toContain("check SIGNET_REGISTRY_URL");
  });

  it("an HTML page (the wrong port) is reported as such, not dumped; so is the data service", async () => {
    const [html, data, dataJson] = await Promise.all([
      signetctl(["consumers", "list", "--url", htmlUrl]),
      signetctl(
        ["users", "create", "jane", "--display-name", "Jane", "--password-stdin"],
        { SIGNET_REGISTRY_URL: pod.url },
        "a long enough password\n",
      ),
      signetctl(["consumers", "list", "--json"], { SIGNET_REGISTRY_URL: htmlUrl }),
    ]);
    expect(html.code).toBe(3);
    expect(html.stderr).toContain(
      `${htmlUrl} (--url) answered an HTML page (HTTP 200), not the registry's admin API`,
    );
    expect(html.stderr).toContain("port 8001");
    expect(html.stderr).not.toContain("SECRET-PAGE-BODY");
    expect(html.stderr).not.toContain("<");
    expect(data.code).toBe(3);
    expect(data.stderr).toContain(
      "answered as the data service (OAuth 1.0a), not the registry; check SIGNET_REGISTRY_URL",
    );
    expect(JSON.parse(dataJson.stderr)).toMatchObject({
      exit_code: 3,
      message: expect.stringContaining("HTML page"),
    });
  });

  it("create --help lists the scopes a consumer can be granted", async () => {
    const help = await signetctl(["consumers", "create", "--help"]);
    expect(help.code).toBe(0);
    for (const scope of ["authenticate", "users:create", "notes:read", "notes:write", "client-address"])
      expect(help.stdout).toContain(scope);
  });
});

describe("closest", () => {
  it("the nearest word within a few edits, a swap counting as one; nothing for a stranger", () => {
    expect(editDistance("lsit", "list")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(closest("consumer", ["consumers", "users", "audit"])).toBe("consumers");
    expect(closest("revoke-token", ["revoke", "revoke-tokens"])).toBe("revoke-tokens");
    expect(closest("rotatefinish", ["rotate", "rotate-finish"])).toBe("rotate-finish");
    expect(closest("shwo", ["show", "list"])).toBe("show");
    expect(closest("xyz", ["show", "list"])).toBeUndefined();
    expect(closest("zzzzzzzz", ["consumers", "users"])).toBeUndefined();
  });
});
