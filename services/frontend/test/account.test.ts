// The account page, the edit form and the home page's pages over HTTP (the browser flows are
// in browser.test.ts): what a forged or malformed form or link gets, and the time zone rules.
import { describe, expect, it } from "vitest";
import { Agent, csrfOf } from "@signet/test-support/agent";
import { useTestDatabase } from "@signet/test-support/db";
import { seedUser } from "@signet/test-support/seed";
import { TIME_ZONES } from "../src/time-zones.js";
import { useFrontendStack } from "./helpers.js";

const tdb = useTestDatabase();
const { front } = useFrontendStack(tdb, { label: "account" });

async function signedInAgent(form: Record<string, string> = {}) {
  const user = await seedUser(tdb.db);
  const agent = new Agent(front.url);
  const res = await agent.submit("/login", "/login", {
    username: user.username,
    password: user.password,
    next: "/",
    ...form,
  });
  expect(res.status).toBe(303);
  return { agent, user };
}

describe("time zone", () => {
  it("offers UTC first and only IANA names; the default is UTC", async () => {
    expect(TIME_ZONES[0]).toBe("UTC");
    expect(TIME_ZONES).toContain("Europe/Paris");
    const page = await new Agent(front.url).get("/login");
    expect(page.body).toMatch(/<option value="UTC" selected>/);
  });

  it("a zone that is not on the list is ignored at login (UTC) and refused on the account page (400)", async () => {
    const { agent } = await signedInAgent({ time_zone: "Mars/Olympus_Mons" });
    const account = await agent.get("/account");
    expect(account.body).toMatch(/<option value="UTC" selected>/);
    const refused = await agent.post("/account/time-zone", {
      _csrf: csrfOf(account.body),
      time_zone: "../../etc/passwd",
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain("Choose a time zone from the list.");
    const accepted = await agent.post("/account/time-zone", {
      _csrf: csrfOf(account.body),
      time_zone: "Europe/Paris",
    });
    expect(accepted.status).toBe(303);
    expect((await agent.get("/account")).body).toMatch(/<option value="Europe\/Paris" selected>/);
  });
});

describe("forms and links", () => {
  it("every account form and the edit form refuse a POST without the CSRF token (403)", async () => {
    const { agent } = await signedInAgent();
    const created = await agent.submit("/", "/notes", { title: "mine", body: "" });
    expect(created.status).toBe(303);
    const id = /\/notes\/([0-9a-f-]{36})\/edit/.exec((await agent.get("/")).body)![1]!;
    for (const [action, form] of [
      [`/notes/${id}/edit`, { title: "forged", body: "" }],
      ["/account/name", { display_name: "forged" }],
      ["/account/time-zone", { time_zone: "UTC" }],
      ["/account/password", { current_password: "x", new_password: "y", repeat_password: "y" }],
      ["/account/sign-out-everywhere", {}],
    ] as const) {
      const res = await agent.post(action, form);
      expect(res.status, action).toBe(403);
    }
    expect((await agent.get("/")).body).toContain("mine");
    expect((await agent.get("/")).status).toBe(200);
  });

  it("the account page and the edit form need a session", async () => {
    const anonymous = new Agent(front.url);
    expect((await anonymous.get("/account")).location).toBe("/login?next=/account");
    const edit = await anonymous.get("/notes/00000000-0000-4000-8000-000000000000/edit");
    expect(edit.location).toBe("/login?next=/notes/00000000-0000-4000-8000-000000000000/edit");
  });

  it("a malformed cursor or search is the 400 page, never a 500", async () => {
    const { agent } = await signedInAgent();
    for (const query of [
      "?before=not%20a%20cursor",
      "?after=%3Cscript%3E",
      "?before=abc&after=abc",
      `?q=${"x".repeat(201)}`,
      "?q=bell%07",
      "?before=YWJj", // well-shaped, but no position: the data service's 400
    ]) {
      const res = await agent.get(`/${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body).toContain("Something in the request was not what we expected");
    }
  });

  it("a new note's title is checked on the edit form as on the new-note form", async () => {
    const { agent } = await signedInAgent();
    await agent.submit("/", "/notes", { title: "to edit", body: "" });
    const id = /\/notes\/([0-9a-f-]{36})\/edit/.exec((await agent.get("/")).body)![1]!;
    const form = await agent.get(`/notes/${id}/edit`);
    const res = await agent.post(`/notes/${id}/edit`, { _csrf: csrfOf(form.body), title: " ", body: "" });
    expect(res.status).toBe(400);
    expect(res.body).toContain("Give your note a title of 1 to 200 characters.");
    const tooLong = await agent.post(`/notes/${id}/edit`, {
      _csrf: csrfOf(form.body),
      title: "ok",
      body: "x".repeat(10_001),
    });
    expect(tooLong.status).toBe(400);
    expect((await agent.get("/")).body).toContain("to edit");
  });
});
