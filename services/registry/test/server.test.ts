// Production mode (`npm run start:registry`): configured only by the environment, missing
// settings end the process at once naming them, SIGTERM shuts down gracefully.
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { usePrivateNats } from "@signet/test-support/hooks";
import { MASTER_KEY } from "@signet/test-support/keys";
import { freePort, waitForPort } from "@signet/test-support/net";
import { spawnCaptured } from "@signet/test-support/processes";

const SERVER = "services/registry/src/server.ts";
const tdb = useTestDatabase();
const nats = usePrivateNats();

const start = (env: Record<string, string>) =>
  spawnCaptured(process.execPath, ["--conditions=@signet/source", "--import", "tsx", SERVER], {
    PATH: process.env.PATH ?? "",
    CI: "1",
    ...env,
  });

describe("npm run start:registry", () => {
  it("names every missing required setting and exits at once", async () => {
    const run = start({ SIGNET_ADMIN_TOKENS: "ops:short" });
    expect(await run.exited).toBe(78);
    const stderr = run.stderr();
    expect(stderr).toContain("missing required setting(s): DATABASE_URL, NATS_URL, SIGNET_MASTER_KEY");
    expect(stderr).toContain("SIGNET_ADMIN_TOKENS entries must be name:token");
  });

  it("serves, imports bootstrap consumers, and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const token = "ops-token-0123456789abcdef";
    const run = start({
      DATABASE_URL: tdb.url,
      NATS_URL: nats.url,
      SIGNET_MASTER_KEY: MASTER_KEY,
      SIGNET_ADMIN_TOKENS: `ops:${token}`,
      SIGNET_BOOTSTRAP_CONSUMERS: "frontend:ck_frontend_prod:frontend-secret-0123456789",
      PORT: String(port),
      HOST: "127.0.0.1",
    });
    try {
      await waitForPort(port, 20_000);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      const res = await fetch(`http://127.0.0.1:${port}/consumers/ck_frontend_prod`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await res.json()).toMatchObject({ key: "ck_frontend_prod", name: "frontend", status: "active" });
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(0);
      const logs = run
        .stdout()
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { msg: string; req?: { headers?: Record<string, string> } });
      expect(logs.map((l) => l.msg)).toContain("shutting down");
      expect(run.stdout()).not.toContain(token);
    } finally {
      run.child.kill("SIGKILL");
    }
  }, 30_000);
});
