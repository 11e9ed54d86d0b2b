// The signed-in home page and the notes on it (docs/api.md, "Pages and forms"): GET / lists
// the user's notes, POST /notes adds one, POST /notes/:id/delete removes one. Without a
// session every one of them sends the browser to /login; with an expired one, the session ends.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { SignetApiError } from "@signet/shared/client";
import { NOTE_BODY_MAX, NOTE_TITLE_MAX } from "@signet/shared/rules";
import { field } from "../forms.js";
import { sendPage } from "../pages.js";
import { sendForm } from "../plugins/csrf.js";
import { loginUrl } from "../safe-next.js";
import { endSession, signedIn, type SignedIn } from "../session.js";

/** A note id as the data service makes them (anything else is not a note: the 404 page). */
const NOTE_ID = /^[A-Za-z0-9-]{1,64}$/;

export const notesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { views, dataClient } = app;

  /** The signed-in user, or a redirect to /login (ending an expired session). */
  async function requireUser(request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | undefined> {
    const state = signedIn(request);
    if (state === "none") {
      await reply.redirect(loginUrl("/"), request.method === "GET" ? 302 : 303);
      return undefined;
    }
    if (state === "expired") {
      await endSession(request, reply);
      await reply.redirect(loginUrl("/", "session_expired"), 303);
      return undefined;
    }
    return state;
  }

  async function renderHome(
    request: FastifyRequest,
    reply: FastifyReply,
    who: SignedIn,
    options: { status?: number; error?: string; draft?: { title: string; body: string } } = {},
  ) {
    const notes = await dataClient.listNotes(who.token, request.id);
    return sendForm(
      views,
      request,
      reply,
      "home",
      {
        title: "Your notes",
        user: who.user,
        notes,
        error: options.error,
        draft: options.draft ?? { title: "", body: "" },
      },
      options.status,
    );
  }

  app.get("/", async (request, reply) => {
    const who = await requireUser(request, reply);
    if (!who) return reply;
    return renderHome(request, reply, who);
  });

  app.post("/notes", { preHandler: app.csrfProtection }, async (request, reply) => {
    const who = await requireUser(request, reply);
    if (!who) return reply;
    const draft = {
      title: field(request.body, "title").trim(),
      body: field(request.body, "body").replace(/\r\n/g, "\n"),
    };
    const refuse = (error: string) => renderHome(request, reply, who, { status: 400, error, draft });
    if (!draft.title || draft.title.length > NOTE_TITLE_MAX) {
      return refuse(`Give your note a title of 1 to ${NOTE_TITLE_MAX} characters.`);
    }
    if (draft.body.length > NOTE_BODY_MAX)
      return refuse(`A note can hold at most ${NOTE_BODY_MAX} characters.`);
    try {
      await dataClient.createNote(who.token, draft, request.id);
    } catch (error) {
      if (error instanceof SignetApiError && error.code === "invalid_input") {
        return refuse("That note was not accepted. Check it and try again.");
      }
      throw error;
    }
    return reply.redirect("/", 303);
  });

  app.post(
    "/notes/:id/delete",
    { preHandler: app.csrfProtection, schema: { params: Type.Object({ id: Type.String() }) } },
    async (request, reply) => {
      const who = await requireUser(request, reply);
      if (!who) return reply;
      const id = request.params.id;
      if (!NOTE_ID.test(id)) return sendPage(views, request, reply, "not_found");
      try {
        await dataClient.deleteNote(who.token, id, request.id);
      } catch (error) {
        // already gone (or never ours): the list is what the user wanted either way
        if (!(error instanceof SignetApiError && error.code === "not_found")) throw error;
      }
      return reply.redirect("/", 303);
    },
  );
};
