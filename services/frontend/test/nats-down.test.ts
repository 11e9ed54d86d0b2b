// Sessions when NATS goes away (a private nats-server, so the shared one is never touched):
// readiness turns false, pages answer a friendly 503 instead of hanging or crashing, and
// once NATS is back the same session works again (JetStream keeps it on disk). Anonymous
// pages need no store at all; a login, which needs the rate-limit counters, gets the 503 page.
import { expect, it } from "vitest";
import { Agent } from "@signet/test-support/agent";
import { useTestDatabase } from "@signet/test-support/db";
import { usePrivateNats } from "@signet/test-support/hooks";
import { seedUser } from "@signet/test-support/seed";
import { useFrontendStack } from "./helpers.js";

const tdb = useTestDatabase();
const nats = usePrivateNats();
const { front } = useFrontendStack(tdb, { label: "down", nats });

it("NATS down: /readyz 503 and a friendly 503 page; back up: the session is still there", async () => {
  const user = await seedUser(tdb.db);
  const agent = new Agent(front.url);
  await agent.login(user.username, user.password);
  expect((await agent.get("/")).status).toBe(200);
  expect((await agent.get("/readyz")).status).toBe(200);

  await nats.stop();
  const ready = await agent.get("/readyz");
  expect(ready.status).toBe(503);
  expect(JSON.parse(ready.body)).toMatchObject({ status: "unready", failed: "sessions" });
  const page = await agent.get("/");
  expect(page.status).toBe(503);
  expect(page.headers.get("content-type")).toContain("text/html");
  expect(page.body).toContain("We can&#39;t reach your notes right now");
  expect((await agent.get("/healthz")).status).toBe(200);
  // an anonymous visitor needs no session store: the login form still works
  const anonymous = await new Agent(front.url).get("/login");
  expect(anonymous.status).toBe(200);
  expect(anonymous.body).toMatch(/name="_csrf" value="[^"]+"/);
  // a login needs the shared rate-limit counters: without them, the 503 page (never a guess)
  const login = await new Agent(front.url).login(user.username, user.password);
  expect(login.status).toBe(503);
  expect(login.body).toContain("We can&#39;t reach your notes right now");

  await nats.start();
  await expect
    .poll(async () => (await agent.get("/readyz")).status, { timeout: 15_000, interval: 250 })
    .toBe(200);
  const home = await agent.get("/");
  expect(home.status).toBe(200);
  expect(home.body).toContain(user.display_name);
}, 45_000);
