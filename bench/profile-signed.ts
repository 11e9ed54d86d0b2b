// CPU profile of the data server under signed GET /me load (not part of npm run bench):
// the server (bench/http-server.ts) runs with --cpu-prof for 6 s of autocannon load,
// 20 connections; the .cpuprofile lands in $PROFILE_DIR (default /tmp/signet-profile),
// to open in Chrome DevTools or summarise by file.
// Run: node --conditions=@signet/source --import tsx bench/profile-signed.ts
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { createTestDatabase } from "@signet/test-support/db";
import { MASTER_KEY } from "@signet/test-support/keys";
import { ROOT, stopChild } from "@signet/test-support/processes";
import { seedCredentials } from "@signet/test-support/seed";
import { cannon, signedRequests } from "./support.js";

const profileDir = process.env.PROFILE_DIR ?? "/tmp/signet-profile";
const database = await createTestDatabase({ prefix: "signet_bench_profile", db: { max: 2 } });
try {
  const { consumer, user, token } = await seedCredentials(database.db);
  const child = spawn(
    process.execPath,
    [
      "--cpu-prof",
      `--cpu-prof-dir=${profileDir}`,
      "--conditions=@signet/source",
      "--import",
      "tsx",
      "bench/http-server.ts",
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_DATABASE_URL: database.url,
        SIGNET_MASTER_KEY: MASTER_KEY,
        BENCH_JWT_SECRET: "profile-jwt-secret-not-used-0123456789",
        BENCH_USER: JSON.stringify({ id: user.id, username: user.username, display_name: user.display_name }),
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout! }).once("line", (line) =>
      resolve((JSON.parse(line) as { url: string }).url),
    ),
  );
  const figure = await cannon("signed GET /me under --cpu-prof", {
    url,
    duration: 6,
    connections: 20,
    requests: signedRequests(url, { method: "GET", url: "/me", consumer, token }),
  });
  await stopChild(child);
  console.log(figure, `profile written to ${profileDir}`);
} finally {
  await database.drop();
}
