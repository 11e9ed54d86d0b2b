// GET /notes as keyset pages (docs/api.md, "Notes"): every note exactly once, newest first
// with the id as the tie-break (notes sharing a created_at too), back and forth with `next`
// and `prev`; malformed cursors and limits refused with 400; `q` searches titles and bodies of
// the user's own notes only; the page query is served by its index; and the same repository
// runs on PGlite (`npm start`).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgliteDb, migrateToLatest } from "@signet/shared/db";
import { createUser, listNotesPage } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { seedToken, seedUser } from "@signet/test-support/seed";
import { signedInject } from "@signet/test-support/signed";
import type { ClientCredentials } from "@signet/shared/oauth";

const tdb = useTestDatabase();
const { pod, consumer } = useDataPod(tdb);

interface Page {
  notes: { id: string; title: string; body: string; created_at: string; updated_at: string }[];
  next: string | null;
  prev: string | null;
}

const list = (token: ClientCredentials, query = "") =>
  signedInject(pod.app, { method: "GET", url: `/notes${query}`, consumer, token });

async function page(token: ClientCredentials, query = ""): Promise<Page> {
  const res = await list(token, query);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
}

/** `count` notes of the user's: in groups of three sharing one created_at, a second apart. */
async function seedNotes(userId: string, count: number, body = (i: number) => `body ${i}`) {
  for (let i = 0; i < count; i++) {
    await sql`insert into notes (user_id, title, body, created_at, updated_at)
      values (${userId}, ${`note ${i}`}, ${body(i)},
              timestamptz '2026-01-01T00:00:00.123456Z' + ${Math.floor(i / 3)} * interval '1 second',
              timestamptz '2026-01-01T00:00:00.123456Z' + ${Math.floor(i / 3)} * interval '1 second')`.execute(
      tdb.db,
    );
  }
}

/** The user's note ids in the order the pages must give them: created_at desc, id desc. */
async function expectedOrder(userId: string): Promise<string[]> {
  const rows = await sql<{ id: string }>`select id from notes where user_id = ${userId}
    order by created_at desc, id desc`.execute(tdb.db);
  return rows.rows.map((r) => r.id);
}

describe("keyset pages", () => {
  let token: ClientCredentials;
  let order: string[];
  beforeAll(async () => {
    const user = await seedUser(tdb.db);
    token = await seedToken(tdb.db, user, consumer);
    await seedNotes(user.id, 47);
    // another user's notes, interleaved in time: never on this user's pages
    const other = await seedUser(tdb.db);
    await seedNotes(other.id, 10);
    order = await expectedOrder(user.id);
  });

  it("visits every note exactly once, newest first, default 20 a page; prev walks back", async () => {
    const seen: string[] = [];
    const cursors: (string | null)[] = [];
    let p = await page(token);
    expect(p.prev).toBeNull();
    for (;;) {
      expect(p.notes.length).toBeLessThanOrEqual(20);
      seen.push(...p.notes.map((n) => n.id));
      cursors.push(p.prev);
      if (!p.next) break;
      p = await page(token, `?before=${p.next}`);
    }
    expect(seen).toEqual(order);
    expect(seen).toHaveLength(47);
    expect(new Set(seen).size).toBe(47);
    expect(cursors.length).toBe(3);

    // back from the last page: each `prev` gives the page before, exactly
    const last = p;
    const middle = await page(token, `?after=${last.prev}`);
    expect(middle.notes.map((n) => n.id)).toEqual(order.slice(20, 40));
    const first = await page(token, `?after=${middle.prev}`);
    expect(first.notes.map((n) => n.id)).toEqual(order.slice(0, 20));
    expect(first.prev).toBeNull();
    expect(first.next).not.toBeNull();
  });

  it("honours limit, 1 to 100", async () => {
    const seen: string[] = [];
    let p = await page(token, "?limit=7");
    for (;;) {
      expect(p.notes.length).toBeLessThanOrEqual(7);
      seen.push(...p.notes.map((n) => n.id));
      if (!p.next) break;
      p = await page(token, `?limit=7&before=${p.next}`);
    }
    expect(seen).toEqual(order);
    expect((await page(token, "?limit=100")).notes).toHaveLength(47);
    for (const bad of ["0", "101", "-1", "abc", "1.5"]) {
      const res = await list(token, `?limit=${bad}`);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json()).toMatchObject({ error: "invalid_input" });
    }
  });

  it("refuses malformed cursors with 400 invalid_input, never a 500", async () => {
    const good = (await page(token, "?limit=1")).next!;
    const b64 = (s: string) => Buffer.from(s).toString("base64url");
    const id = order[0]!;
    const bad = [
      "!!!",
      "abc",
      b64("nonsense"),
      b64(`2026-02-30T00:00:00.000000Z ${id}`), // no such day
      b64(`2026-13-01T00:00:00.000000Z ${id}`),
      b64(`0000-01-01T00:00:00.000000Z ${id}`), // no year 0 in PostgreSQL
      b64(`2026-01-01T00:00:00.000000Z not-a-uuid`),
      b64(`2026-01-01T00:00:00Z ${id}`),
      b64(`2026-01-01T00:00:00.000000Z ${id} extra`),
      b64(`2026-01-01T00:00:00.000000Z ${id}\u0000`),
      `${good}=`,
      "a".repeat(129),
    ];
    for (const cursor of bad) {
      for (const name of ["before", "after"]) {
        const res = await list(token, `?${name}=${encodeURIComponent(cursor)}`);
        expect(res.statusCode, `${name}=${cursor}`).toBe(400);
        expect(res.json()).toMatchObject({ error: "invalid_input" });
      }
    }
    const both = await list(token, `?before=${good}&after=${good}`);
    expect(both.statusCode).toBe(400);
    expect(both.json()).toMatchObject({ error: "invalid_input" });
  });

  it("a cursor of another user's note reveals nothing: the page holds only the caller's notes", async () => {
    const stranger = await seedUser(tdb.db);
    const strangerToken = await seedToken(tdb.db, stranger, consumer);
    const cursor = (await page(token, "?limit=1")).next!;
    const p = await page(strangerToken, `?before=${cursor}`);
    expect(p.notes).toEqual([]);
    expect(p.next).toBeNull();
  });

  it("the page query is served by notes_user_created_id_idx (user, created_at desc, id desc)", async () => {
    const [at, id] = Buffer.from((await page(token, "?limit=1")).next!, "base64url")
      .toString()
      .split(" ");
    const plan = await tdb.db.connection().execute(async (conn) => {
      await sql`set enable_seqscan = off`.execute(conn);
      const rows = await sql<{ "QUERY PLAN": string }>`explain select * from notes
        where user_id = ${order[0]}::uuid and (created_at, id) < (${at}::timestamptz, ${id}::uuid)
        order by created_at desc, id desc limit 21`.execute(conn);
      await sql`reset enable_seqscan`.execute(conn);
      return rows.rows.map((r) => r["QUERY PLAN"]).join("\n");
    });
    expect(plan).toContain("notes_user_created_id_idx");
    expect(plan).toMatch(/Index Cond: .*ROW\(created_at, id\) </);
    expect(plan).not.toMatch(/Sort/);
  });
});

describe("search", () => {
  let token: ClientCredentials;
  beforeAll(async () => {
    const user = await seedUser(tdb.db);
    token = await seedToken(tdb.db, user, consumer);
    await seedNotes(user.id, 30, (i) => (i % 3 === 0 ? `Buy MILK and bread ${i}` : `nothing ${i}`));
    await sql`update notes set title = 'Analytical Engine' where user_id = ${user.id} and title = 'note 7'`.execute(
      tdb.db,
    );
    const other = await seedUser(tdb.db);
    await seedNotes(other.id, 5, () => "milk of another user");
  });

  it("finds words in bodies and titles, any case, the user's own notes only, paged", async () => {
    const all = await page(token, "?q=milk&limit=100");
    expect(all.notes).toHaveLength(10);
    expect(all.notes.every((n) => n.body.startsWith("Buy MILK"))).toBe(true);
    const seen: string[] = [];
    let p = await page(token, "?q=Milk&limit=4");
    for (;;) {
      seen.push(...p.notes.map((n) => n.id));
      if (!p.next) break;
      p = await page(token, `?q=Milk&limit=4&before=${p.next}`);
    }
    expect(seen).toEqual(all.notes.map((n) => n.id));

    expect((await page(token, "?q=engine")).notes.map((n) => n.title)).toEqual(["Analytical Engine"]);
    expect((await page(token, `?q=${encodeURIComponent('"milk and bread"')}`)).notes).toHaveLength(10);
    expect((await page(token, `?q=${encodeURIComponent("milk -bread")}`)).notes).toHaveLength(0);
    expect((await page(token, "?q=nowhere")).notes).toEqual([]);
    // operators and punctuation only: no match, no error
    expect((await page(token, `?q=${encodeURIComponent("&|!():*")}`)).notes).toEqual([]);
  });

  it("refuses an empty, over-long or control-character query with 400", async () => {
    for (const q of ["", "x".repeat(201), "milk\u0000", "a\u202Eb"]) {
      const res = await list(token, `?q=${encodeURIComponent(q)}`);
      expect(res.statusCode, JSON.stringify(q)).toBe(400);
      expect(res.json()).toMatchObject({ error: "invalid_input" });
    }
  });
});

describe("on PGlite (npm start)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "signet-pglite-pages-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("migrates, pages and searches with the same repository", async () => {
    const db = await createPgliteDb(dir);
    try {
      await migrateToLatest(db);
      const user = await createUser(db, {
        username: "pglite-pages",
        password: "long enough",
        display_name: "P",
      });
      for (let i = 0; i < 12; i++) {
        await db
          .insertInto("notes")
          .values({ user_id: user.id, title: `t${i}`, body: i % 5 === 0 ? "find me" : "other" })
          .execute();
      }
      const seen: string[] = [];
      let p = await listNotesPage(db, user.id, { limit: 5 });
      for (;;) {
        seen.push(...p.notes.map((n) => n.title));
        if (!p.more) break;
        p = await listNotesPage(db, user.id, { limit: 5, before: p.notes.at(-1)!.position });
      }
      // PGlite's clock may give notes written in one millisecond one created_at: the id decides
      const order = await db
        .selectFrom("notes")
        .select("title")
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .execute();
      expect(seen).toEqual(order.map((n) => n.title));
      expect(new Set(seen).size).toBe(12);
      const found = await listNotesPage(db, user.id, { limit: 10, q: "FIND" });
      expect(found.notes.map((n) => n.title)).toEqual(seen.filter((t) => Number(t.slice(1)) % 5 === 0));
      // one statement, one timestamp: a new note is not "edited"
      const note = await db
        .selectFrom("notes")
        .selectAll()
        .where("title", "=", "t3")
        .executeTakeFirstOrThrow();
      expect(note.updated_at.getTime()).toBe(note.created_at.getTime());
    } finally {
      await db.destroy();
    }
  }, 120_000); // PGlite (WebAssembly) starts and migrates slowly on a busy machine
});
