// Notes: the user's own, newest first (docs/api.md, "Data routes"). Another user's note is
// answered as not found. The queries are in @signet/shared/repos (repos/notes.ts). GET /notes
// answers one keyset page (docs/design.md, "Notes: pages and search") with opaque cursors.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { type Note } from "@signet/shared/db";
import { invalidInput, notFound } from "@signet/shared/http";
import {
  createNote,
  deleteNote,
  findNote,
  listNotesPage,
  updateNote,
  type NotePosition,
} from "@signet/shared/repos";
import { NOTES_PAGE_DEFAULT } from "@signet/shared/rules";
import {
  NewNoteBody,
  NoteList,
  NoteListQuery,
  NoteParams,
  NotePatchBody,
  oauthErrors,
  SECURITY,
} from "../schemas.js";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A note's created_at to the microsecond (the page order's precision), UTC. */
const POSITION_AT = /^[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A cursor: base64url of "<created_at µs ISO> <id>". Opaque to clients; nothing secret in it. */
export const encodeCursor = (p: NotePosition): string => Buffer.from(`${p.at} ${p.id}`).toString("base64url");

/** The position a cursor names, or 400 invalid_input: nothing malformed reaches the database. */
export function decodeCursor(cursor: string): NotePosition {
  const [at = "", id = "", ...rest] = Buffer.from(cursor, "base64url").toString("latin1").split(" ");
  // the date must be a real one (no 2026-02-30): JavaScript's reading of its millisecond part round-trips
  const millis = at.slice(0, 23);
  const date = new Date(`${millis}Z`);
  const real =
    POSITION_AT.test(at) && !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 23) === millis;
  if (!real || !UUID_RE.test(id) || rest.length > 0 || encodeCursor({ at, id }) !== cursor) {
    throw invalidInput("malformed page cursor");
  }
  return { at, id };
}

const noteView = (n: Note) => ({
  id: n.id,
  title: n.title,
  body: n.body,
  created_at: n.created_at.toISOString(),
  updated_at: n.updated_at.toISOString(),
});

const notFoundResponse = {
  404: Type.Ref("Error", { description: "not_found (also for another user's note)" }),
};

/** A malformed id cannot name a note: 404 without asking the database. */
function noteId(id: string): string {
  if (!UUID_RE.test(id)) throw notFound("note");
  return id;
}

export const notesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const read = { oauth: { token: true, scopes: ["notes:read"] } };
  const write = { oauth: { token: true, scopes: ["notes:write"] } };

  app.get(
    "/notes",
    {
      config: read,
      schema: {
        summary: "One page of the user's notes, newest first",
        description:
          "Signed with consumer + token. Scope: `notes:read`. Keyset pagination: `next` is the cursor of the page after this one (pass it as `before`), `prev` of the one before it (pass it as `after`); `q` searches titles and bodies (PostgreSQL full text, 'simple' configuration). A malformed cursor, or `before` with `after`, is 400 invalid_input.",
        tags: ["notes"],
        security: SECURITY,
        querystring: NoteListQuery,
        response: { 200: NoteList, ...oauthErrors },
      },
    },
    async (request) => {
      const { limit = NOTES_PAGE_DEFAULT, before, after, q } = request.query;
      if (before !== undefined && after !== undefined) throw invalidInput("send before or after, not both");
      const page = await listNotesPage(app.db, request.user!.id, {
        limit,
        before: before === undefined ? undefined : decodeCursor(before),
        after: after === undefined ? undefined : decodeCursor(after),
        q,
      });
      const first = page.notes[0];
      const last = page.notes.at(-1);
      // reading older (the default): more means an older page; a cursor given means newer notes exist
      const olderExist = after === undefined ? page.more : last !== undefined;
      const newerExist = after === undefined ? before !== undefined && first !== undefined : page.more;
      return {
        notes: page.notes.map(noteView),
        next: olderExist && last ? encodeCursor(last.position) : null,
        prev: newerExist && first ? encodeCursor(first.position) : null,
      };
    },
  );

  app.post(
    "/notes",
    {
      config: write,
      schema: {
        summary: "Create a note",
        description:
          "Signed with consumer + token; JSON body signed through oauth_body_hash. Scope: `notes:write`. title 1–200 characters, body up to 10 000.",
        tags: ["notes"],
        security: SECURITY,
        body: NewNoteBody,
        response: { 201: Type.Ref("Note"), ...oauthErrors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(noteView(await createNote(app.db, request.user!.id, request.body))),
  );

  app.get(
    "/notes/:id",
    {
      config: read,
      schema: {
        summary: "One note",
        description: "Signed with consumer + token. Scope: `notes:read`.",
        tags: ["notes"],
        security: SECURITY,
        params: NoteParams,
        response: { 200: Type.Ref("Note"), ...oauthErrors, ...notFoundResponse },
      },
    },
    async (request) => {
      const note = await findNote(app.db, request.user!.id, noteId(request.params.id));
      if (!note) throw notFound("note");
      return noteView(note);
    },
  );

  app.patch(
    "/notes/:id",
    {
      config: write,
      schema: {
        summary: "Change a note's title and/or body",
        description:
          "Signed with consumer + token; JSON body signed through oauth_body_hash. Scope: `notes:write`.",
        tags: ["notes"],
        security: SECURITY,
        params: NoteParams,
        body: NotePatchBody,
        response: { 200: Type.Ref("Note"), ...oauthErrors, ...notFoundResponse },
      },
    },
    async (request) => {
      const { title, body } = request.body;
      if (title === undefined && body === undefined) throw invalidInput("send title and/or body");
      const note = await updateNote(app.db, request.user!.id, noteId(request.params.id), { title, body });
      if (!note) throw notFound("note");
      return noteView(note);
    },
  );

  app.delete(
    "/notes/:id",
    {
      config: write,
      schema: {
        summary: "Delete a note",
        description: "Signed with consumer + token. Scope: `notes:write`.",
        tags: ["notes"],
        security: SECURITY,
        params: NoteParams,
        response: { 204: Type.Null({ description: "deleted" }), ...oauthErrors, ...notFoundResponse },
      },
    },
    async (request, reply) => {
      if (!(await deleteNote(app.db, request.user!.id, noteId(request.params.id)))) throw notFound("note");
      return reply.code(204).send(null);
    },
  );
};
