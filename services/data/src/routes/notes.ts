// Notes: the user's own, newest first. Another user's note is answered as not found.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { type Note } from "@signet/shared/db";
import { invalidInput, notFound } from "@signet/shared/http";
import type { DataContext } from "../context.js";
import { NewNoteBody, NoteList, NoteParams, NotePatchBody, oauthErrors } from "../schemas.js";

const SECURITY = [{ oauth1: [] }];
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

export async function notesRoutes(instance: FastifyInstance, ctx: DataContext): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx;
  const read = { oauth: { token: true, scopes: ["notes:read"] } };
  const write = { oauth: { token: true, scopes: ["notes:write"] } };

  /** The user's note, or 404 (a malformed id cannot name a note either). */
  const findOwn = async (userId: string, id: string) => {
    if (!UUID_RE.test(id)) throw notFound("note");
    const note = await db
      .selectFrom("notes")
      .selectAll()
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!note) throw notFound("note");
    return note;
  };

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
    async (request) => {
      const notes = await db
        .selectFrom("notes")
        .selectAll()
        .where("user_id", "=", request.user!.id)
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(1000)
        .execute();
      return { notes: notes.map(noteView) };
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
    async (request, reply) => {
      const note = await db
        .insertInto("notes")
        .values({ user_id: request.user!.id, title: request.body.title, body: request.body.body })
        .returningAll()
        .executeTakeFirstOrThrow();
      return reply.code(201).send(noteView(note));
    },
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
    async (request) => noteView(await findOwn(request.user!.id, request.params.id)),
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
      await findOwn(request.user!.id, request.params.id);
      const note = await db
        .updateTable("notes")
        .set({
          ...(title !== undefined ? { title } : {}),
          ...(body !== undefined ? { body } : {}),
          updated_at: new Date(),
        })
        .where("id", "=", request.params.id)
        .where("user_id", "=", request.user!.id)
        .returningAll()
        .executeTakeFirst();
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
      if (!UUID_RE.test(request.params.id)) throw notFound("note");
      const result = await db
        .deleteFrom("notes")
        .where("id", "=", request.params.id)
        .where("user_id", "=", request.user!.id)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) throw notFound("note");
      return reply.code(204).send(null);
    },
  );
}
