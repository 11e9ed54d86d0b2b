// Notes: the user's own, newest first (docs/api.md, "Data routes"). Another user's note is
// answered as not found. The queries are in @signet/shared/repos (repos/notes.ts).
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { type Note } from "@signet/shared/db";
import { invalidInput, notFound } from "@signet/shared/http";
import { createNote, deleteNote, findNote, listNotes, updateNote } from "@signet/shared/repos";
import { NewNoteBody, NoteList, NoteParams, NotePatchBody, oauthErrors, SECURITY } from "../schemas.js";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
        summary: "The user's notes, newest first",
        description: "Signed with consumer + token. Scope: `notes:read`.",
        tags: ["notes"],
        security: SECURITY,
        response: { 200: NoteList, ...oauthErrors },
      },
    },
    async (request) => ({ notes: (await listNotes(app.db, request.user!.id)).map(noteView) }),
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
