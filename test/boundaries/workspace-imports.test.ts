// Each workspace declares what it imports (docs/design.md, "Shared subpath entry points"):
// every package a workspace's sources import is in its "dependencies", every package its
// tests import is in "dependencies" or "devDependencies", and nothing is declared that no
// file imports. A service that starts using a package without saying so fails here.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WORKSPACES: Record<string, { src: string[]; test: string[] }> = {
  "services/client": { src: ["src"], test: ["test"] },
  "services/shared": { src: ["src"], test: ["test"] },
  "services/data": { src: ["src"], test: ["test"] },
  // bin/signetctl.js runs dist/, or the sources through tsx where npm ci installed it
  "services/registry": { src: ["src"], test: ["test", "bin"] },
  "services/frontend": { src: ["src"], test: ["test"] },
  // dev-only: everything it holds serves tests and benchmarks
  "test/support": { src: [], test: ["."] },
};
// Declared for what they provide without being imported by name (types, a CLI, a CSS file).
const IMPLICIT = new Set(["@types/pg", "pino-pretty", "@picocss/pico"]);

function files(dir: string): string[] {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name === "dist" ? [] : files(full);
    return /\.(ts|js|mjs)$/.test(entry.name) ? [full] : [];
  });
}

/** The packages a file imports (static, dynamic and re-exports), by package name. */
function importedPackages(file: string): Set<string> {
  const text = readFileSync(file, "utf8");
  const names = new Set<string>();
  const statements = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"'.][^"']*)["']/gm;
  const bare = /^\s*import\s*["']([^"'.][^"']*)["']/gm;
  const dynamic = /\bimport\(\s*["']([^"'.][^"']*)["']\s*\)/g;
  for (const match of [...text.matchAll(statements), ...text.matchAll(bare), ...text.matchAll(dynamic)]) {
    const spec = match[1]!;
    if (spec.startsWith("node:") || builtinModules.includes(spec)) continue;
    const parts = spec.split("/");
    names.add(spec.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return names;
}

const union = (sets: Set<string>[]) => new Set(sets.flatMap((s) => [...s]));

describe("each workspace declares what it imports", () => {
  for (const [workspace, layout] of Object.entries(WORKSPACES)) {
    it(workspace, () => {
      const dir = path.join(ROOT, workspace);
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      const deps = new Set(Object.keys(pkg.dependencies ?? {}));
      const devDeps = new Set(Object.keys(pkg.devDependencies ?? {}));
      const self = (names: Set<string>) => new Set([...names].filter((n) => n !== pkg.name));
      const fromSrc = self(union(layout.src.flatMap((d) => files(path.join(dir, d))).map(importedPackages)));
      const fromTest = self(
        union(layout.test.flatMap((d) => files(path.join(dir, d))).map(importedPackages)),
      );

      expect(
        [...fromSrc].filter((n) => !deps.has(n)),
        "imported by sources, not in dependencies",
      ).toEqual([]);
      expect(
        [...fromTest].filter((n) => !deps.has(n) && !devDeps.has(n)),
        "imported by tests, not declared",
      ).toEqual([]);
      expect(
        [...deps].filter((n) => !fromSrc.has(n) && !fromTest.has(n) && !IMPLICIT.has(n)),
        "declared in dependencies, imported by no file",
      ).toEqual([]);
      expect(
        [...devDeps].filter((n) => !fromTest.has(n) && !IMPLICIT.has(n)),
        "devDependencies no test imports",
      ).toEqual([]);
    });
  }
});
