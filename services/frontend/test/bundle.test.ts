// The frontend's boundary, as the build sees it (docs/design.md, "Shared subpath entry
// points"): esbuild bundles the production entry point, src/server.ts, with every package
// bundled (none external), so its metafile lists each file the frontend can ever load. The
// database layer — pg and its helpers, kysely, argon2, PGlite — must not be among them: the
// frontend talks to the data service over signed HTTP only. The packages found are printed.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { expect, it } from "vitest";

const FRONTEND = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FORBIDDEN = /^(pg|pg-.+|pgpass|kysely|argon2|@electric-sql\/.+)$/;

/** The package an input path belongs to (its last node_modules segment), or undefined for our own sources. */
function packageOf(input: string): string | undefined {
  const at = input.lastIndexOf("node_modules/");
  if (at < 0) return undefined;
  const [first, second] = input.slice(at + "node_modules/".length).split("/");
  return first!.startsWith("@") ? `${first}/${second}` : first;
}

it("the bundle of src/server.ts holds no database package (pg, kysely, argon2, PGlite)", async () => {
  const result = await build({
    entryPoints: [path.join(FRONTEND, "src/server.ts")],
    absWorkingDir: FRONTEND,
    platform: "node",
    format: "esm",
    target: "node20",
    bundle: true,
    packages: "bundle",
    conditions: ["@signet/source"],
    metafile: true,
    write: false,
    outfile: "server.bundle.js",
    logLevel: "silent",
  });
  const inputs = Object.keys(result.metafile.inputs);
  const packages = [...new Set(inputs.map(packageOf).filter((name) => name !== undefined))].sort();
  const shared = [...new Set(inputs.flatMap((input) => input.split("shared/src/").slice(1)))].sort();
  console.log(`frontend bundle: ${packages.length} packages\n  ${packages.join("\n  ")}`);
  console.log(`@signet/shared sources in it: ${shared.join(", ")}`);

  expect(packages).toContain("fastify"); // the metafile did list the packages
  expect(packages.filter((name) => FORBIDDEN.test(name))).toEqual([]);
  expect(shared.filter((file) => /^(db|repos)\/|^(passwords|announce)\.ts$/.test(file))).toEqual([]);
}, 60_000);
