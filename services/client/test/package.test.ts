// @signet/client is published on its own: a manifest fit for the registry, no dependency at
// all (nothing of the repository's), and a build that emits JS and .d.ts which run outside
// the repository.
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const PACKAGE = path.resolve(import.meta.dirname, "..");
const ROOT = path.resolve(PACKAGE, "../..");
const manifest = JSON.parse(readFileSync(path.join(PACKAGE, "package.json"), "utf8")) as Record<
  string,
  unknown
>;
const scratch = mkdtempSync(path.join(tmpdir(), "signet-client-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("@signet/client as a package", () => {
  it("is publishable and depends on nothing", () => {
    expect(manifest.name).toBe("@signet/client");
    expect(manifest.private).toBeUndefined();
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.peerDependencies).toBeUndefined();
    expect(manifest.files).toContain("dist");
    expect(manifest.exports).toMatchObject({
      ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
    });
    expect(existsSync(path.join(PACKAGE, "README.md"))).toBe(true);
  });

  it("its sources import only node: built-ins and each other", () => {
    const dir = path.join(PACKAGE, "src");
    for (const file of readdirSync(dir)) {
      const text = readFileSync(path.join(dir, file), "utf8");
      for (const [, spec] of text.matchAll(/\bfrom\s*["']([^"']+)["']/g))
        expect(spec, `${file} imports ${spec}`).toMatch(/^(node:|\.\/)/);
    }
  });

  it("builds to JS and .d.ts that run outside the repository", () => {
    const installed = path.join(scratch, "node_modules/@signet/client");
    mkdirSync(installed, { recursive: true });
    execFileSync(
      path.join(ROOT, "node_modules/.bin/tsc"),
      [
        "-p",
        path.join(PACKAGE, "tsconfig.json"),
        "--outDir",
        path.join(installed, "dist"),
        "--tsBuildInfoFile",
        path.join(scratch, "tsbuildinfo"),
      ],
      { stdio: "pipe" },
    );
    cpSync(path.join(PACKAGE, "package.json"), path.join(installed, "package.json"));
    expect(existsSync(path.join(installed, "dist/index.d.ts"))).toBe(true);
    expect(readFileSync(path.join(installed, "dist/client.d.ts"), "utf8")).toContain("createSignetClient");
    writeFileSync(
      path.join(scratch, "use.mjs"),
      `import { sign, createSignetClient } from "@signet/client";
       createSignetClient({ baseUrl: "http://127.0.0.1:1", consumer: { key: "k", secret: "s" } });
       const { authorization } = sign({ method: "POST", url: "http://h/notes", consumer: { key: "k", secret: "s" },
         body: "{}", contentType: "application/json" });
       console.log(authorization);`,
    );
    const out = execFileSync(process.execPath, [path.join(scratch, "use.mjs")], {
      cwd: scratch,
      encoding: "utf8",
    });
    expect(out).toMatch(
      /^OAuth oauth_body_hash="[^"]+", oauth_consumer_key="k", .*oauth_signature_method="HMAC-SHA256"/,
    );
  });
});
