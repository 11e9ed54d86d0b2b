// Browser end to end in headless Chromium (Debian's /usr/bin/chromium via playwright-core),
// against two frontend instances sharing one NATS KV session bucket and the real data
// service. Screenshots of the pages go to test-output/screenshots/ on every run.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { SUBJECTS } from "@signet/shared/bus";
import { revokeUserTokens } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { unique } from "@signet/test-support/keys";
import { freePort } from "@signet/test-support/net";
import { seedUser } from "@signet/test-support/seed";
import { dateFormatter } from "../src/time-zones.js";
import { useFrontendStack, type Frontend } from "./helpers.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../test-output/screenshots",
);
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };

// Outside CI a machine without Chromium skips this file; under CI it must fail instead.
const runBrowser = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!runBrowser) console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install chromium)`);

describe.runIf(runBrowser)("in a real browser", () => {
  const tdb = useTestDatabase();
  // two frontends sharing one session bucket: a is the stack's, b another replica
  const stack = useFrontendStack(tdb, { label: "e2e" });
  const { data, front: a } = stack;
  let b: Frontend;
  let browser: Browser;
  let noJs: BrowserContext;
  let withJs: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    b = await stack.startFrontend();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
      ],
    });
    // The main journey runs with JavaScript off: the site must work without it.
    noJs = await browser.newContext({ javaScriptEnabled: false, viewport: DESKTOP });
    withJs = await browser.newContext({ viewport: DESKTOP });
    noJs.setDefaultTimeout(10_000);
    withJs.setDefaultTimeout(10_000);
    page = await noJs.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await b?.app.close();
  });

  async function shot(p: Page, name: string, viewport = DESKTOP) {
    await p.setViewportSize(viewport);
    await p.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    // nothing may overflow sideways, on a phone either
    const overflow = await p
      .evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth")
      .catch(() => 0);
    expect(overflow, `${name} overflows horizontally`).toBeLessThanOrEqual(0);
    await p.setViewportSize(DESKTOP);
  }

  /** Clicks a submit button and returns the final navigation's status. */
  async function submit(p: Page, button: ReturnType<Page["getByRole"]>): Promise<number | undefined> {
    const [response] = await Promise.all([p.waitForNavigation(), button.click()]);
    return response?.status();
  }

  const noteTitles = (p: Page) => p.locator("ol.notes h3").allTextContents();

  it("sign up, log out, log in, add two notes, delete one, log out — with JavaScript off", async () => {
    const username = unique("e2e");
    const password = "a very long passphrase";
    await page.goto(`${a.url}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(new URL(page.url()).search).toBe("?next=/");
    await shot(page, "login-desktop");
    await shot(page, "login-phone", PHONE);
    // an anonymous page: no session cookie, only the CSRF secret's (HttpOnly, SameSite=Lax)
    const anonymous = await noJs.cookies(a.url);
    expect(anonymous.map((c) => c.name)).toEqual(["signet.csrf"]);
    expect(anonymous[0]).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });

    await page.getByRole("link", { name: "Create an account" }).click();
    await shot(page, "signup-desktop");
    await page.getByLabel("Display name").fill("Grace Hopper");
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill(password);
    expect(await submit(page, page.getByRole("button", { name: "Sign up" }))).toBe(200);
    expect(new URL(page.url()).pathname).toBe("/");
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toBe("Hello, Grace Hopper");

    await submit(page, page.getByRole("button", { name: "Log out" }));
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(await page.locator("[role=status]").textContent()).toContain("You have been logged out");

    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill(password);
    expect(await submit(page, page.getByRole("button", { name: "Log in" }))).toBe(200);
    expect(new URL(page.url()).pathname).toBe("/");
    expect(await page.locator("p.empty").textContent()).toContain("No notes yet");

    for (const [title, body] of [
      ["Buy milk", "two litres"],
      ["Call Ada", "about the\nanalytical engine"],
    ]) {
      await page.getByLabel("Title").fill(title!);
      await page.getByLabel("Note", { exact: true }).fill(body!);
      expect(await submit(page, page.getByRole("button", { name: "Add note" }))).toBe(200);
    }
    expect(await noteTitles(page)).toEqual(["Call Ada", "Buy milk"]); // newest first
    expect(await page.locator("form[action^='/notes/'][action$='/delete']").count()).toBe(2);
    await shot(page, "home-desktop");
    await shot(page, "home-phone", PHONE);

    await submit(page, page.getByRole("button", { name: "Delete note: Buy milk" }));
    expect(await noteTitles(page)).toEqual(["Call Ada"]);

    await submit(page, page.getByRole("button", { name: "Log out" }));
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.goto(`${a.url}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
  }, 90_000); // a long journey: generous on a machine shared with other work

  it("a wrong password shows the [role=alert] message with status 401", async () => {
    const user = await seedUser(tdb.db);
    await page.goto(`${a.url}/login`);
    await page.getByLabel("Username").fill(user.username);
    await page.getByLabel("Password").fill("definitely wrong");
    expect(await submit(page, page.getByRole("button", { name: "Log in" }))).toBe(401);
    expect(await page.locator("[role=alert]").textContent()).toBe("Incorrect username or password.");
    expect(await page.getByLabel("Username").inputValue()).toBe(user.username);
    await shot(page, "login-error-desktop");
    await shot(page, "login-error-phone", PHONE);
  });

  it("a note titled <script>alert(1)</script> renders as text and runs nothing (JavaScript on)", async () => {
    const user = await seedUser(tdb.db);
    await withJs.clearCookies();
    const p = await withJs.newPage();
    p.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    try {
      await p.goto(`${a.url}/login`);
      await p.getByLabel("Username").fill(user.username);
      await p.getByLabel("Password").fill(user.password);
      await submit(p, p.getByRole("button", { name: "Log in" }));
      const evil = "<script>alert(1)</script>";
      await p.getByLabel("Title").fill(evil);
      await p.getByLabel("Note", { exact: true }).fill(`<img src=x onerror="alert(2)">`);
      await submit(p, p.getByRole("button", { name: "Add note" }));
      expect(await p.locator("ol.notes h3").first().textContent()).toBe(evil);
      expect(await p.locator("ol.notes .note-body").first().textContent()).toBe(
        `<img src=x onerror="alert(2)">`,
      );
      expect(await p.evaluate<number>(`document.querySelectorAll("script, main img").length`)).toBe(0);
      await p.reload();
      await p.waitForTimeout(200);
      expect(dialogs).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it("a form posted without its CSRF token gets 403", async () => {
    const user = await seedUser(tdb.db);
    await withJs.clearCookies();
    const p = await withJs.newPage();
    try {
      await p.goto(`${a.url}/login`);
      await p.getByLabel("Username").fill(user.username);
      await p.getByLabel("Password").fill(user.password);
      await submit(p, p.getByRole("button", { name: "Log in" }));
      await p.evaluate(`document.querySelector("form[action='/notes'] input[name=_csrf]").remove()`);
      await p.getByLabel("Title").fill("forged");
      expect(await submit(p, p.getByRole("button", { name: "Add note" }))).toBe(403);
      expect(await p.getByRole("heading", { level: 1 }).textContent()).toBe("This form has expired");
      await shot(p, "error-403-desktop");
      await shot(p, "error-403-phone", PHONE);
      await p.goto(`${a.url}/`);
      expect(await noteTitles(p)).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it("two frontend instances share sessions: log in through one, continue on the other", async () => {
    const user = await seedUser(tdb.db);
    const first = await browser.newContext({ javaScriptEnabled: false, viewport: DESKTOP });
    const second = await browser.newContext({ javaScriptEnabled: false, viewport: DESKTOP });
    try {
      const pa = await first.newPage();
      await pa.goto(`${a.url}/login`);
      await pa.getByLabel("Username").fill(user.username);
      await pa.getByLabel("Password").fill(user.password);
      await submit(pa, pa.getByRole("button", { name: "Log in" }));
      await pa.getByLabel("Title").fill("written on A");
      await submit(pa, pa.getByRole("button", { name: "Add note" }));

      const cookies = await first.cookies(a.url);
      const sid = cookies.find((c) => c.name === "signet.sid");
      expect(sid?.httpOnly).toBe(true);
      expect(sid?.sameSite).toBe("Lax");
      await second.addCookies([{ name: sid!.name, value: sid!.value, url: b.url }]);
      const pb = await second.newPage();
      await pb.goto(`${b.url}/`);
      expect(new URL(pb.url()).pathname).toBe("/");
      expect(await pb.getByRole("heading", { level: 1 }).textContent()).toBe(`Hello, ${user.display_name}`);
      expect(await noteTitles(pb)).toEqual(["written on A"]);
      await pb.getByLabel("Title").fill("written on B");
      await submit(pb, pb.getByRole("button", { name: "Add note" }));
      await pa.reload();
      expect(await noteTitles(pa)).toEqual(["written on B", "written on A"]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("revoking the user's tokens on the data side sends the browser back to /login, saying why", async () => {
    const user = await seedUser(tdb.db);
    await page.goto(`${a.url}/login`);
    await page.getByLabel("Username").fill(user.username);
    await page.getByLabel("Password").fill(user.password);
    await submit(page, page.getByRole("button", { name: "Log in" }));
    expect(new URL(page.url()).pathname).toBe("/");

    await revokeUserTokens(tdb.db, user.id);
    await data.bus.publish(SUBJECTS.userDisabled, {
      user_id: user.id,
      at: new Date().toISOString(),
      actor: "e2e",
    });

    await page.reload();
    const url = new URL(page.url());
    expect(url.pathname).toBe("/login");
    expect(url.searchParams.get("reason")).toBe("token_revoked");
    expect(await page.locator("[role=status]").textContent()).toContain("your access was revoked");
    await shot(page, "login-revoked-desktop");
    await page.goto(`${a.url}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
  });

  it("keyboard: the skip link comes first, focus is always visible", async () => {
    const p = await withJs.newPage();
    try {
      await p.goto(`${a.url}/no/such/page`);
      await p.keyboard.press("Tab");
      expect(await p.evaluate<string>("document.activeElement.className")).toBe("skip-link");
      const box = await p.locator(".skip-link").boundingBox();
      expect(box && box.x >= 0 && box.y >= 0).toBe(true);
      await p.keyboard.press("Tab");
      expect(await p.evaluate<string>("document.activeElement.textContent.trim()")).toContain("Signet");
      const outline = await p.evaluate<string>("getComputedStyle(document.activeElement).outlineStyle");
      expect(outline).not.toBe("none");
    } finally {
      await p.close();
    }
  });

  it("friendly error pages: 404 and the data service unreachable (503)", async () => {
    const missing = await page.goto(`${a.url}/no/such/page`);
    expect(missing?.status()).toBe(404);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Page not found");
    await shot(page, "error-404-desktop");
    await shot(page, "error-404-phone", PHONE);

    const down = await stack.startFrontend({ dataUrl: `http://127.0.0.1:${await freePort()}` });
    try {
      await page.goto(`${down.url}/login`);
      await page.getByLabel("Username").fill("someone");
      await page.getByLabel("Password").fill("something");
      expect(await submit(page, page.getByRole("button", { name: "Log in" }))).toBe(503);
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(
        "We can't reach your notes right now",
      );
      await shot(page, "error-503-desktop");
    } finally {
      await down.app.close();
    }
  });

  /** Logs `user` in on `p` through `front` (a time zone picked on the form when given). */
  async function logIn(
    p: Page,
    front: Frontend,
    user: { username: string; password: string },
    timeZone?: string,
  ): Promise<number | undefined> {
    await p.goto(`${front.url}/login`);
    await p.getByLabel("Username").fill(user.username);
    await p.getByLabel("Password").fill(user.password);
    if (timeZone) {
      await p.getByLabel("Time zone").selectOption(timeZone);
    }
    return submit(p, p.getByRole("button", { name: "Log in" }));
  }

  /** A browser context of its own, JavaScript off, at desktop size. */
  const newNoJsContext = () => browser.newContext({ javaScriptEnabled: false, viewport: DESKTOP });

  /** Runs `body` with `user` logged in twice: `p1` on replica a, `p2` on replica b (each its own context). */
  async function signedInTwice(
    user: { username: string; password: string },
    body: (s: { first: BrowserContext; p1: Page; p2: Page }) => Promise<void>,
  ) {
    const first = await newNoJsContext();
    const second = await newNoJsContext();
    try {
      const p1 = await first.newPage();
      const p2 = await second.newPage();
      await logIn(p1, a, user);
      await logIn(p2, b, user);
      await body({ first, p1, p2 });
    } finally {
      await first.close();
      await second.close();
    }
  }

  /** Fills the account page's password form on `p` and returns the submit's status. */
  async function changePassword(p: Page, current: string, next: string, repeat: string) {
    await p.getByLabel("Current password").fill(current);
    await p.getByLabel("New password", { exact: true }).fill(next);
    await p.getByLabel("Repeat the new password").fill(repeat);
    return submit(p, p.getByRole("button", { name: "Change password" }));
  }

  it("account page: display name and time zone (chosen at login, changed later), times in <time datetime> — JavaScript off", async () => {
    const user = await seedUser(tdb.db);
    const ctx = await newNoJsContext();
    try {
      const p = await ctx.newPage();
      expect(await logIn(p, a, user, "Asia/Tokyo")).toBe(200);
      await p.getByLabel("Title").fill("Timed note");
      await submit(p, p.getByRole("button", { name: "Add note" }));
      const time = p.locator("ol.notes time").first();
      const iso = (await time.getAttribute("datetime"))!;
      expect(new Date(iso).toISOString()).toBe(iso);
      expect(await time.textContent()).toBe(dateFormatter("Asia/Tokyo")(iso));
      expect(await time.textContent()).toContain("GMT+9");

      await p.getByRole("link", { name: "Account" }).click();
      expect(new URL(p.url()).pathname).toBe("/account");
      expect(await p.getByLabel("Show times in").inputValue()).toBe("Asia/Tokyo");
      await shot(p, "account-desktop");
      await shot(p, "account-phone", PHONE);

      await p.getByLabel("Display name").fill("Ada, Countess of Lovelace");
      expect(await submit(p, p.getByRole("button", { name: "Save name" }))).toBe(200);
      expect(await p.locator("[role=status]").textContent()).toContain("display name is saved");
      expect(await p.locator(".who strong").textContent()).toBe("Ada, Countess of Lovelace");

      await p.getByLabel("Display name").fill("   ");
      expect(await submit(p, p.getByRole("button", { name: "Save name" }))).toBe(400);
      expect(await p.locator("[role=alert]").textContent()).toContain("1 to 100 characters");

      await p.getByLabel("Show times in").selectOption("America/New_York");
      await submit(p, p.getByRole("button", { name: "Save time zone" }));
      await p.goto(`${a.url}/`);
      expect(await p.getByRole("heading", { level: 1 }).textContent()).toBe(
        "Hello, Ada, Countess of Lovelace",
      );
      expect(await p.locator("ol.notes time").first().textContent()).toBe(
        dateFormatter("America/New_York")(iso),
      );
    } finally {
      await ctx.close();
    }
  }, 90_000);

  it("edits a note at /notes/<id>/edit, and the list says it was edited", async () => {
    const user = await seedUser(tdb.db);
    const ctx = await newNoJsContext();
    try {
      const p = await ctx.newPage();
      await logIn(p, a, user);
      await p.getByLabel("Title").fill("Teh typo");
      await p.getByLabel("Note", { exact: true }).fill("\nstarts with a blank line");
      await submit(p, p.getByRole("button", { name: "Add note" }));
      expect(await p.locator("ol.notes .edited").count()).toBe(0);

      await p.getByRole("link", { name: "Edit note: Teh typo" }).click();
      expect(new URL(p.url()).pathname).toMatch(/^\/notes\/[0-9a-f-]{36}\/edit$/);
      expect(await p.getByLabel("Note", { exact: true }).inputValue()).toBe("\nstarts with a blank line");
      await shot(p, "edit-desktop");
      await shot(p, "edit-phone", PHONE);

      await p.getByLabel("Title").fill("The typo, fixed");
      await p.getByLabel("Note", { exact: true }).fill("a better body");
      expect(await submit(p, p.getByRole("button", { name: "Save changes" }))).toBe(200);
      expect(new URL(p.url()).pathname).toBe("/");
      expect(await noteTitles(p)).toEqual(["The typo, fixed"]);
      expect(await p.locator("ol.notes .note-body").first().textContent()).toBe("a better body");
      expect(await p.locator("ol.notes .edited").count()).toBe(1);
      expect(await p.locator("ol.notes .edited time").getAttribute("datetime")).toMatch(/^\d{4}-.*Z$/);

      // another user's note id: the 404 page, for the form and for a forged post alike
      const other = await seedUser(tdb.db);
      const foreign = await tdb.db
        .insertInto("notes")
        .values({ user_id: other.id, title: "not yours", body: "" })
        .returning("id")
        .executeTakeFirstOrThrow();
      expect((await p.goto(`${a.url}/notes/${foreign.id}/edit`))?.status()).toBe(404);
    } finally {
      await ctx.close();
    }
  }, 90_000);

  it("an edit posted without its CSRF token gets 403 and changes nothing", async () => {
    const user = await seedUser(tdb.db);
    await withJs.clearCookies();
    const p = await withJs.newPage();
    try {
      await logIn(p, a, user);
      await p.getByLabel("Title").fill("keep me");
      await submit(p, p.getByRole("button", { name: "Add note" }));
      await p.getByRole("link", { name: "Edit note: keep me" }).click();
      await p.evaluate(`document.querySelector("form[action$='/edit'] input[name=_csrf]").remove()`);
      await p.getByLabel("Title").fill("forged");
      expect(await submit(p, p.getByRole("button", { name: "Save changes" }))).toBe(403);
      expect(await p.getByRole("heading", { level: 1 }).textContent()).toBe("This form has expired");
      await p.goto(`${a.url}/`);
      expect(await noteTitles(p)).toEqual(["keep me"]);
    } finally {
      await p.close();
    }
  }, 90_000);

  it("pagination visits every note exactly once (Older), and Newer walks back; search finds by word", async () => {
    const user = await seedUser(tdb.db);
    const total = 47;
    // pairs of notes share a created_at: the id breaks the tie
    const start = Date.parse("2026-06-01T12:00:00Z");
    await tdb.db
      .insertInto("notes")
      .values(
        Array.from({ length: total }, (_, i) => {
          const g = i + 1;
          const at = new Date(start + Math.floor(g / 2) * 60_000);
          const body = g % 10 === 0 ? "has the word zebra" : "plain";
          return { user_id: user.id, title: `Note ${g}`, body, created_at: at, updated_at: at };
        }),
      )
      .execute();
    const ctx = await newNoJsContext();
    try {
      const p = await ctx.newPage();
      await logIn(p, a, user);
      expect(await p.locator("a[rel=prev]").count()).toBe(0);
      const pages: string[][] = [];
      for (;;) {
        pages.push(await noteTitles(p));
        const older = p.locator("a[rel=next]");
        if ((await older.count()) === 0) break;
        if (pages.length === 2) {
          await shot(p, "home-paged-desktop");
          await shot(p, "home-paged-phone", PHONE);
        }
        await Promise.all([p.waitForNavigation(), older.click()]);
      }
      const seen = pages.flat();
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
      expect(pages.map((t) => t.length)).toEqual([20, 20, 7]);
      // newest first: created_at desc (the titles' numbers fall, pairs in id order)
      const minutes = seen.map((t) => Math.floor(Number(t.slice(5)) / 2));
      expect(minutes).toEqual([...minutes].sort((x, y) => y - x));

      // back with Newer, page by page, to the first page (which has no Newer link)
      for (let i = pages.length - 2; i >= 0; i--) {
        await Promise.all([p.waitForNavigation(), p.locator("a[rel=prev]").click()]);
        expect(await noteTitles(p)).toEqual(pages[i]);
      }
      expect(await p.locator("a[rel=prev]").count()).toBe(0);
      expect(new URL(p.url()).search).toBe("");

      // search: a form[role=search], results paged the same way
      await p.getByLabel("Search your notes").fill("Zebra");
      await submit(p, p.getByRole("button", { name: "Search" }));
      expect(new URL(p.url()).searchParams.get("q")).toBe("Zebra");
      expect((await noteTitles(p)).sort()).toEqual(["Note 10", "Note 20", "Note 30", "Note 40"]);
      await shot(p, "search-desktop");
      await shot(p, "search-phone", PHONE);
      // a forged cursor is a bad link, not an error on our side
      expect((await p.goto(`${a.url}/?before=bm90LWEtY3Vyc29y`))?.status()).toBe(400);
    } finally {
      await ctx.close();
    }
  }, 90_000);

  it("changing the password in one context signs out a second context (on another replica); this one stays", async () => {
    const user = await seedUser(tdb.db);
    await signedInTwice(user, async ({ first, p1, p2 }) => {
      const sidBefore = (await first.cookies(a.url)).find((c) => c.name === "signet.sid")?.value;

      await p1.goto(`${a.url}/account`);
      expect(await changePassword(p1, "not my password", "a fresh passphrase", "a fresh passphrase")).toBe(
        401,
      );
      expect(await p1.locator("[role=alert]").textContent()).toContain("current password is not right");

      expect(await changePassword(p1, user.password, `x${user.username}x`, `x${user.username}x`)).toBe(400);

      expect(await changePassword(p1, user.password, "a fresh passphrase", "a different one!")).toBe(400);
      expect(await p1.locator("[role=alert]").textContent()).toContain("differ");

      expect(await changePassword(p1, user.password, "a fresh passphrase", "a fresh passphrase")).toBe(200);
      expect(await p1.locator("[role=status]").textContent()).toContain("password is changed");
      // this session stays, under a new id
      const sidAfter = (await first.cookies(a.url)).find((c) => c.name === "signet.sid")?.value;
      expect(sidAfter).toBeDefined();
      expect(sidAfter).not.toBe(sidBefore);
      await p1.goto(`${a.url}/`);
      expect(new URL(p1.url()).pathname).toBe("/");

      // the other session, on the other replica, ends on its next request
      await p2.reload();
      expect(new URL(p2.url()).pathname).toBe("/login");
      expect(new URL(p2.url()).searchParams.get("reason")).toBe("token_revoked");
      expect(await logIn(p2, b, user)).toBe(401);
      expect(await logIn(p2, b, { ...user, password: "a fresh passphrase" })).toBe(200);
      expect(new URL(p2.url()).pathname).toBe("/");
    });
  }, 90_000);

  it("'Sign out everywhere' ends both contexts", async () => {
    const user = await seedUser(tdb.db);
    await signedInTwice(user, async ({ p1, p2 }) => {
      await p1.goto(`${a.url}/account`);
      await submit(p1, p1.getByRole("button", { name: "Sign out everywhere" }));
      expect(new URL(p1.url()).pathname).toBe("/login");
      expect(await p1.locator("[role=status]").textContent()).toContain("signed out everywhere");
      await shot(p1, "signed-out-everywhere-desktop");
      await p1.goto(`${a.url}/account`);
      expect(new URL(p1.url()).pathname).toBe("/login");
      await p2.reload();
      expect(new URL(p2.url()).pathname).toBe("/login");
      expect(new URL(p2.url()).searchParams.get("reason")).toBe("token_revoked");
    });
  }, 90_000);

  it("keyboard: the account page's controls are reached by Tab, each with a visible focus", async () => {
    const user = await seedUser(tdb.db);
    await withJs.clearCookies();
    const p = await withJs.newPage();
    try {
      await logIn(p, a, user);
      await p.goto(`${a.url}/account`);
      const reached = new Set<string>();
      for (let i = 0; i < 20; i++) {
        await p.keyboard.press("Tab");
        const focused = await p.evaluate<{ id: string; text: string; outline: string; tag: string }>(
          `(() => { const e = document.activeElement; return { tag: e.tagName, id: e.id || e.getAttribute("href") || "", text: (e.textContent || "").trim(), outline: getComputedStyle(e).outlineStyle }; })()`,
        );
        if (focused.tag === "BODY") break; // past the last control
        expect(focused.outline, `focus on ${focused.id || focused.text}`).not.toBe("none");
        reached.add(focused.id || focused.text);
      }
      for (const want of [
        "/account",
        "display_name",
        "time_zone",
        "current_password",
        "new_password",
        "repeat_password",
      ]) {
        expect(reached, want).toContain(want);
      }
      expect(reached).toContain("Sign out everywhere");
    } finally {
      await p.close();
    }
  }, 90_000);
});
