import { defaultServerConditions } from "vite";
import { configDefaults, defineConfig } from "vitest/config";

// Workspace packages export their TypeScript sources under the "@signet/source"
// condition, so tests run against src/ without a build step.
const conditions = ["@signet/source", ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["services/*/test/**/*.test.ts", "test/**/*.test.ts"],
    // the Docker image test runs on its own: `npm run test:image` (test/image/vitest.config.ts)
    exclude: [...configDefaults.exclude, "test/image/**"],
    environment: "node",
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["test/support/global-setup.ts"],
  },
});
