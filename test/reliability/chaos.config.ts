// `npm run test:chaos`: the reliability suite's long version (three restart rounds, longer
// outages, 50,000 fuzzed requests). `npm test` runs the short version of the same files.
import { defineConfig } from "vitest/config";
import base from "../../vitest.config.js";

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    // replaces (not extends) the main config's list: only the reliability files
    include: ["test/reliability/**/*.test.ts"],
    env: { SIGNET_CHAOS_LONG: "1" },
    testTimeout: 600_000,
  },
});
