import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The boundaries between workspaces (docs/design.md, "Conventions"): a service's sources never
// import another service; the frontend never reaches the database layer; @signet/shared is
// used through its subpath entry points only, never by path.
const otherService = (...names) =>
  names.map((name) => ({
    group: [`@signet/${name}`, `@signet/${name}/*`, `**/services/${name}/**`, `../../${name}/**`],
    message: `a service does not import another service (${name}); share code through @signet/shared`,
  }));
const sharedByPath = {
  group: ["**/shared/src/**", "@signet/shared/src/*"],
  message: "import @signet/shared through its subpath entry points (package.json exports)",
};
const databaseLayer = {
  group: [
    "@signet/shared/db",
    "@signet/shared/repos",
    "@signet/shared/passwords",
    "@signet/shared/announce",
    "kysely",
    "pg",
    "argon2",
    "@electric-sql/pglite",
    "@electric-sql/pglite/*",
  ],
  message: "the frontend never loads the database layer: it talks to the data service over signed HTTP",
};
const restrict = (...patterns) => ({
  "no-restricted-imports": [
    "error",
    { paths: [{ name: "@signet/shared", message: "use a subpath entry point" }], patterns },
  ],
});

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", ".signet/**", "test-output/**", ".tools/**", "charts/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      ...restrict(sharedByPath),
    },
  },
  {
    files: ["services/shared/src/**"],
    rules: restrict(...otherService("data", "registry", "frontend", "test-support")),
  },
  {
    files: ["services/data/src/**"],
    rules: restrict(sharedByPath, ...otherService("registry", "frontend", "test-support")),
  },
  {
    files: ["services/registry/src/**"],
    rules: restrict(sharedByPath, ...otherService("data", "frontend", "test-support")),
  },
  {
    files: ["services/frontend/src/**"],
    rules: restrict(sharedByPath, databaseLayer, ...otherService("data", "registry", "test-support")),
  },
  // The validation limits are imported by every service, the frontend included: nothing in them.
  {
    files: ["services/shared/src/rules.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["*"], message: "rules.ts stays dependency-free" }] },
      ],
    },
  },
);
