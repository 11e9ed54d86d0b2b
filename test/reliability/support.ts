// The reliability suite's own setting (pods, seeders, signed requests and waiting are
// @signet/test-support's).

/** Long mode (npm run test:chaos or SIGNET_CHAOS_LONG=1): longer runs, more rounds. */
export const LONG = process.env.SIGNET_CHAOS_LONG === "1";
