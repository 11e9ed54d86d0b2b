// The signed-in home page and the notes on it (docs/api.md, "Pages and forms"): GET / shows
// one page of the user's notes (keyset pages of the data service: `Older` is a[rel=next],
// `Newer` a[rel=prev]) or the notes matching a search, POST /notes adds one, GET and POST
// /notes/:id/edit change one, POST /notes/:id/delete removes one. Without a session every one
// of them sends the browser to /login; with an expired one, the session ends.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { SignetApiError } from "@signet/shared/client";
import { CONTROL_CHARACTER_RE, NOTE_BODY_MAX, NOTE_TITLE_MAX, SEARCH_QUERY_MAX } from "@signet/shared/rules";
import { field } from "../forms.js";
import { sendPage } from "../pages.js";
import { sendForm } from "../plugins/csrf.js";
import type { Note, NotePage } from "../plugins/data-client.js";
import { requireUser, type SignedIn } from "../session.js";
import { dateFormatter, zoneOf } from "../time-zones.js";

/** A note id as the data service makes them (anything else is not a note: the 404 page). */
const NOTE_ID = /^[A-Za-z0-9-]{1,64}$/;
/** A page cursor as the data service makes them (opaque base64url). */
const CURSOR = /^[A-Za-z0-9_-]{1,128}$/;
/** Notes per home page. */
export const HOME_PAGE_SIZE = 20;

interface Draft {
  title: string;
  body: string;
}

/** Where a list is: the search and the cursor, as read from the query string. */
interface ListPosition {
  q: string;
  before: string;
  after: string;
}

/** The title and body of a note form, or why they are refused (the same limits as the data service). */
function readDraft(body: unknown): { draft: Draft; error?: string } {
  const draft = {
    title: field(body, "title").trim(),
    body: field(body, "body").replace(/\r\n/g, "\n"),
  };
  if (!draft.title || draft.title.length > NOTE_TITLE_MAX) {
    return { draft, error: `Give your note a title of 1 to ${NOTE_TITLE_MAX} characters.` };
  }
  if (draft.body.length > NOTE_BODY_MAX) {
    return { draft, error: `A note can hold at most ${NOTE_BODY_MAX} characters.` };
  }
  return { draft };
}

/** A home page URL for a search and a cursor. */
function homeUrl(q: string, cursor?: { before?: string; after?: string }): string {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (cursor?.before) params.set("before", cursor.before);
  if (cursor?.after) params.set("after", cursor.after);
  return params.size > 0 ? `/?${params.toString()}` : "/";
}

export const notesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { views, dataClient } = app;

  /** The home page: one page of notes at `position`, the new-note form (with a draft or an error). */
  async function renderHome(
    request: FastifyRequest,
    reply: FastifyReply,
    who: SignedIn,
    position: ListPosition,
    options: { status?: number; error?: string; draft?: Draft } = {},
  ) {
    const { q, before, after } = position;
    let page: NotePage;
    try {
      page = await dataClient.notesPage(
        who.token,
        { limit: HOME_PAGE_SIZE, q: q || undefined, before: before || undefined, after: after || undefined },
        request.id,
      );
    } catch (error) {
      // a cursor that looks right but names nothing the data service accepts: a bad link
      if (error instanceof SignetApiError && error.code === "invalid_input") {
        return sendPage(views, request, reply, "bad_request");
      }
      throw error;
    }
    // `Newer` reached the newest notes: the first page (full, with the new-note form) at its own address
    if (after && page.prev === null) {
      return reply.redirect(homeUrl(q), 303);
    }
    return sendForm(
      views,
      request,
      reply,
      "home",
      {
        title: q ? `Notes matching “${q}”` : "Your notes",
        user: who.user,
        notes: page.notes,
        q,
        olderUrl: page.next ? homeUrl(q, { before: page.next }) : undefined,
        newerUrl: page.prev ? homeUrl(q, { after: page.prev }) : undefined,
        firstPage: !before && !after,
        formatDate: dateFormatter(zoneOf(request.session.timeZone)),
        edited: (note: Note) => note.updated_at !== note.created_at,
        error: options.error,
        draft: options.draft ?? { title: "", body: "" },
      },
      options.status,
    );
  }

  app.get("/", async (request, reply) => {
    const q = field(request.query, "q").trim();
    const who = await requireUser(request, reply, homeUrl(q));
    if (!who) return reply;
    const before = field(request.query, "before");
    const after = field(request.query, "after");
    const malformed =
      q.length > SEARCH_QUERY_MAX ||
      CONTROL_CHARACTER_RE.test(q) ||
      (before !== "" && !CURSOR.test(before)) ||
      (after !== "" && !CURSOR.test(after)) ||
      (before !== "" && after !== "");
    if (malformed) return sendPage(views, request, reply, "bad_request");
    return renderHome(request, reply, who, { q, before, after });
  });

  app.post("/notes", { preHandler: app.csrfProtection }, async (request, reply) => {
    const who = await requireUser(request, reply);
    if (!who) return reply;
    const { draft, error } = readDraft(request.body);
    const first = { q: "", before: "", after: "" };
    const refuse = (message: string) =>
      renderHome(request, reply, who, first, { status: 400, error: message, draft });
    if (error) return refuse(error);
    try {
      await dataClient.createNote(who.token, draft, request.id);
    } catch (failure) {
      if (failure instanceof SignetApiError && failure.code === "invalid_input") {
        return refuse("That note was not accepted. Check it and try again.");
      }
      throw failure;
    }
    return reply.redirect("/", 303);
  });

  const noteParams = { schema: { params: Type.Object({ id: Type.String() }) } };

  /** The edit form of a note (its current text, or the draft that was refused). */
  const renderEdit = (
    request: FastifyRequest,
    reply: FastifyReply,
    who: SignedIn,
    note: { id: string } & Draft,
    options: { status?: number; error?: string } = {},
  ) =>
    sendForm(
      views,
      request,
      reply,
      "edit",
      { title: "Edit note", user: who.user, note, error: options.error },
      options.status,
    );

  app.get("/notes/:id/edit", noteParams, async (request, reply) => {
    const id = request.params.id;
    const who = await requireUser(request, reply, NOTE_ID.test(id) ? `/notes/${id}/edit` : "/");
    if (!who) return reply;
    if (!NOTE_ID.test(id)) return sendPage(views, request, reply, "not_found");
    let note: Note;
    try {
      note = await dataClient.getNote(who.token, id, request.id);
    } catch (error) {
      if (error instanceof SignetApiError && error.code === "not_found") {
        return sendPage(views, request, reply, "not_found");
      }
      throw error;
    }
    return renderEdit(request, reply, who, note);
  });

  app.post("/notes/:id/edit", { ...noteParams, preHandler: app.csrfProtection }, async (request, reply) => {
    const who = await requireUser(request, reply);
    if (!who) return reply;
    const id = request.params.id;
    if (!NOTE_ID.test(id)) return sendPage(views, request, reply, "not_found");
    const { draft, error } = readDraft(request.body);
    const refuse = (message: string) =>
      renderEdit(request, reply, who, { id, ...draft }, { status: 400, error: message });
    if (error) return refuse(error);
    try {
      await dataClient.updateNote(who.token, id, draft, request.id);
    } catch (failure) {
      if (failure instanceof SignetApiError && failure.code === "not_found") {
        return sendPage(views, request, reply, "not_found");
      }
      if (failure instanceof SignetApiError && failure.code === "invalid_input") {
        return refuse("That note was not accepted. Check it and try again.");
      }
      throw failure;
    }
    return reply.redirect("/", 303);
  });

  app.post("/notes/:id/delete", { ...noteParams, preHandler: app.csrfProtection }, async (request, reply) => {
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
  });
};
