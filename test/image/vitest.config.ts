// `npm run test:image`: the Docker image test alone (test/image/images.test.ts). `npm test`
// leaves it out (vitest.config.ts excludes test/image); .ci/run runs it after `npm test`.
import { configDefaults, defineConfig } from "vitest/config";
import base from "../../vitest.config.js";

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/image/**/*.test.ts"],
    exclude: configDefaults.exclude,
    // image builds on two shared cores take minutes; the first run also makes the base image
    testTimeout: 30 * 60_000,
    hookTimeout: 30 * 60_000,
  },
});
