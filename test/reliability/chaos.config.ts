// `npm run test:chaos`: the reliability suite's long version (more restart rounds, longer
// outages, 50,000 fuzzed requests). `npm test` runs the short version of the same files.
import { defineConfig, mergeConfig } from "vitest/config";
import base from "../../vitest.config.js";

export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ["test/reliability/**/*.test.ts"],
      env: { SIGNET_CHAOS_LONG: "1" },
      testTimeout: 600_000,
    },
  }),
);
