// The pages: login, sign-up, home (notes), logout. Every POST is CSRF-checked; login and
// sign-up are rate-limited per client address; failed data calls end in friendly pages.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  DISPLAY_NAME_MAX,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  USERNAME_RE,
  LOGIN_USERNAME_MAX,
  NOTE_BODY_MAX,
  NOTE_TITLE_MAX,
} from "@signet/shared/rules";
import { SignetApiError } from "@signet/shared/client";
import type { FrontendConfig } from "./config.js";
import type { DataClient, LoginResult, Note } from "./data-client.js";
import { LOGIN_REASONS, classifyDataError, sendPage } from "./pages.js";
import { loginUrl, safeNext } from "./safe-next.js";
import { csrfToken } from "./csrf.js";
import {
  endSession,
  ensureFreshSessionId,
  expireCookie,
  signedIn,
  type PageCookies,
  type SignedIn,
} from "./session.js";
import type { Views } from "./views.js";

export interface PageContext {
  config: FrontendConfig;
  views: Views;
  data: DataClient;
  cookies: PageCookies;
}

/** One form field as a string ("" when absent; the first value when repeated). */
function field(body: unknown, name: string): string {
  if (!body || typeof body !== "object") return "";
  const value = (body as Record<string, unknown>)[name];
  const one = Array.isArray(value) ? value[0] : value;
  return typeof one === "string" ? one : "";
}

function queryParam(request: FastifyRequest, name: string): string {
  return field(request.query, name);
}

export async function pageRoutes(app: FastifyInstance, ctx: PageContext): Promise<void> {
  const { views, data, config, cookies } = ctx;

  const rateLimit = (perMinute: number) => ({
    rateLimit: { max: perMinute, timeWindow: 60_000 },
  });

  /** The signed-in user, or a redirect to /login (ending an expired session). */
  async function requireUser(
    request: FastifyRequest,
    reply: FastifyReply,
    next: string,
  ): Promise<SignedIn | undefined> {
    const state = signedIn(request);
    if (state === "none") {
      await reply.redirect(loginUrl(next), request.method === "GET" ? 302 : 303);
      return undefined;
    }
    if (state === "expired") {
      await endSession(request, reply, cookies);
      await reply.redirect(loginUrl(next, "session_expired"), 303);
      return undefined;
    }
    return state;
  }

  /**
   * Starts the session (a new id: no fixation) of a user the data service just authenticated:
   * the first one stored for this browser. The anonymous CSRF secret is dropped too.
   */
  async function startSession(
    request: FastifyRequest,
    reply: FastifyReply,
    login: LoginResult,
  ): Promise<void> {
    await ensureFreshSessionId(request, cookies.session);
    request.session.user = {
      id: login.user.id,
      username: login.user.username,
      display_name: login.user.display_name,
    };
    request.session.auth = { token: login.token, secret: login.secret, expiresAt: login.expires_at };
    request.session.refreshedAt = Date.now(); // written now; the next refresh is due an interval later
    expireCookie(reply, cookies.csrf, cookies.secure);
  }

  function renderLogin(
    request: FastifyRequest,
    reply: FastifyReply,
    options: { status?: number; error?: string; notice?: string; username?: string; next: string },
  ) {
    return views.send(
      reply,
      "login",
      {
        title: "Log in",
        csrfToken: csrfToken(request, reply),
        next: options.next,
        error: options.error,
        notice: options.notice,
        username: options.username,
      },
      options.status ?? 200,
    );
  }

  function renderSignup(
    request: FastifyRequest,
    reply: FastifyReply,
    options: {
      status?: number;
      error?: string;
      field?: string;
      values?: Record<string, string>;
      next: string;
    },
  ) {
    return views.send(
      reply,
      "signup",
      {
        title: "Sign up",
        csrfToken: csrfToken(request, reply),
        next: options.next,
        error: options.error,
        field: options.field,
        values: options.values ?? {},
        passwordMin: PASSWORD_MIN_LENGTH,
      },
      options.status ?? 200,
    );
  }

  async function renderHome(
    request: FastifyRequest,
    reply: FastifyReply,
    who: SignedIn,
    options: { status?: number; error?: string; draft?: { title: string; body: string } } = {},
  ) {
    const notes: Note[] = await data.listNotes(who.token, request.id);
    return views.send(
      reply,
      "home",
      {
        title: "Your notes",
        user: who.user,
        notes,
        csrfToken: csrfToken(request, reply),
        error: options.error,
        draft: options.draft ?? { title: "", body: "" },
      },
      options.status ?? 200,
    );
  }

  // ---- home -------------------------------------------------------------------------

  app.get("/", async (request, reply) => {
    const who = await requireUser(request, reply, "/");
    if (!who) return reply;
    return renderHome(request, reply, who);
  });

  // ---- login ------------------------------------------------------------------------

  app.get("/login", async (request, reply) => {
    const next = safeNext(queryParam(request, "next"));
    if (typeof signedIn(request) === "object") return reply.redirect(next);
    const reason = queryParam(request, "reason");
    return renderLogin(request, reply, {
      next,
      notice: Object.hasOwn(LOGIN_REASONS, reason) ? LOGIN_REASONS[reason] : undefined,
    });
  });

  app.post(
    "/login",
    { preHandler: app.csrfProtection, config: rateLimit(config.loginRateLimit) },
    async (request, reply) => {
      const next = safeNext(field(request.body, "next"));
      const username = field(request.body, "username").trim();
      const password = field(request.body, "password");
      if (!username || !password) {
        return renderLogin(request, reply, {
          status: 400,
          error: "Enter your username and your password.",
          username,
          next,
        });
      }
      if (username.length > LOGIN_USERNAME_MAX || password.length > PASSWORD_MAX_LENGTH) {
        return renderLogin(request, reply, {
          status: 401,
          error: "Incorrect username or password.",
          username: "",
          next,
        });
      }
      let login: LoginResult;
      try {
        login = await data.authenticate({ username, password, clientIp: request.ip }, request.id);
      } catch (error) {
        if (error instanceof SignetApiError) {
          if (error.code === "invalid_credentials" || error.code === "invalid_input") {
            return renderLogin(request, reply, {
              status: 401,
              error: "Incorrect username or password.",
              username,
              next,
            });
          }
          if (error.code === "user_disabled") {
            return renderLogin(request, reply, {
              status: 403,
              error: LOGIN_REASONS.user_disabled,
              username,
              next,
            });
          }
          if (error.code === "rate_limited" || error.status === 429) {
            if (error.retryAfter !== undefined) reply.header("retry-after", String(error.retryAfter));
            const wait = error.retryAfter
              ? ` Try again in ${error.retryAfter} seconds.`
              : " Try again in a minute.";
            return renderLogin(request, reply, {
              status: 429,
              error: `Too many login attempts.${wait}`,
              username,
              next,
            });
          }
        }
        throw error;
      }
      await startSession(request, reply, login);
      request.log.info({ user_id: login.user.id }, "user logged in");
      return reply.redirect(next, 303);
    },
  );

  // ---- sign-up ----------------------------------------------------------------------

  app.get("/signup", async (request, reply) => {
    const next = safeNext(queryParam(request, "next"));
    if (typeof signedIn(request) === "object") return reply.redirect(next);
    return renderSignup(request, reply, { next });
  });

  app.post(
    "/signup",
    { preHandler: app.csrfProtection, config: rateLimit(config.signupRateLimit) },
    async (request, reply) => {
      const next = safeNext(field(request.body, "next"));
      const values = {
        username: field(request.body, "username").trim(),
        display_name: field(request.body, "display_name").trim(),
      };
      const password = field(request.body, "password");
      const invalid = (error: string, which: string) =>
        renderSignup(request, reply, { status: 400, error, field: which, values, next });
      if (!values.display_name || values.display_name.length > DISPLAY_NAME_MAX) {
        return invalid(`Enter a display name of at most ${DISPLAY_NAME_MAX} characters.`, "display_name");
      }
      if (!USERNAME_RE.test(values.username)) {
        return invalid(
          "Choose a username of 3 to 64 letters, digits, dots, dashes or underscores.",
          "username",
        );
      }
      if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
        return invalid(`Choose a password of at least ${PASSWORD_MIN_LENGTH} characters.`, "password");
      }
      try {
        await data.signUp(
          { username: values.username, password, display_name: values.display_name },
          request.id,
        );
      } catch (error) {
        if (error instanceof SignetApiError) {
          if (error.code === "username_taken" || error.status === 409) {
            return renderSignup(request, reply, {
              status: 409,
              error: `The username “${values.username}” is already taken. Please choose another one.`,
              field: "username",
              values,
              next,
            });
          }
          if (error.code === "invalid_input" || error.status === 400) {
            return invalid("Some details were not accepted. Check them and try again.", "");
          }
        }
        throw error;
      }
      const login = await data.authenticate(
        { username: values.username, password, clientIp: request.ip },
        request.id,
      );
      await startSession(request, reply, login);
      request.log.info({ user_id: login.user.id }, "user signed up");
      return reply.redirect(next, 303);
    },
  );

  // ---- logout -----------------------------------------------------------------------

  app.post("/logout", { preHandler: app.csrfProtection }, async (request, reply) => {
    const state = signedIn(request);
    if (typeof state === "object") {
      try {
        await data.logout(state.token, request.id);
      } catch (error) {
        // the session ends here whatever the data service says; a dead token is already logged out
        request.log.warn({ err: error }, "data service logout failed");
      }
    }
    await endSession(request, reply, cookies);
    return reply.redirect(loginUrl("/", "logged_out"), 303);
  });

  // ---- notes ------------------------------------------------------------------------

  app.post("/notes", { preHandler: app.csrfProtection }, async (request, reply) => {
    const who = await requireUser(request, reply, "/");
    if (!who) return reply;
    const draft = {
      title: field(request.body, "title").trim(),
      body: field(request.body, "body").replace(/\r\n/g, "\n"),
    };
    if (!draft.title || draft.title.length > NOTE_TITLE_MAX) {
      return renderHome(request, reply, who, {
        status: 400,
        error: `Give your note a title of 1 to ${NOTE_TITLE_MAX} characters.`,
        draft,
      });
    }
    if (draft.body.length > NOTE_BODY_MAX) {
      return renderHome(request, reply, who, {
        status: 400,
        error: `A note can hold at most ${NOTE_BODY_MAX} characters.`,
        draft,
      });
    }
    try {
      await data.createNote(who.token, draft, request.id);
    } catch (error) {
      if (error instanceof SignetApiError && error.code === "invalid_input") {
        return renderHome(request, reply, who, {
          status: 400,
          error: "That note was not accepted. Check it and try again.",
          draft,
        });
      }
      throw error;
    }
    return reply.redirect("/", 303);
  });

  app.post<{ Params: { id: string } }>(
    "/notes/:id/delete",
    { preHandler: app.csrfProtection },
    async (request, reply) => {
      const who = await requireUser(request, reply, "/");
      if (!who) return reply;
      const id = request.params.id;
      if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) return sendPage(views, request, reply, "not_found");
      try {
        await data.deleteNote(who.token, id, request.id);
      } catch (error) {
        // already gone (or never ours): the list is what the user wanted either way
        if (!(error instanceof SignetApiError && error.code === "not_found")) throw error;
      }
      return reply.redirect("/", 303);
    },
  );
}

/** Turns a failed page request into the right answer: a friendly page, or back to /login. */
export function pageErrorHandler(ctx: PageContext) {
  return async (
    error: Error & { statusCode?: number; code?: string; retryAfterSeconds?: number },
    request: FastifyRequest,
    reply: FastifyReply,
  ) => {
    const { views, cookies } = ctx;
    if (error instanceof SignetApiError) {
      const failure = classifyDataError(error);
      if (failure.kind === "session_ended") {
        request.log.info(
          { reason: failure.reason, request_id: error.requestId },
          "data service refused the session's token; session ended",
        );
        await endSession(request, reply, cookies);
        const next = request.method === "GET" ? safeNext(request.url) : "/";
        return reply.redirect(loginUrl(next, failure.reason), 303);
      }
      const level = failure.page === "misconfigured" || failure.page === "internal" ? "error" : "warn";
      request.log[level](
        { err: error, code: error.code, problem: error.problem, status: error.status },
        "data service call failed",
      );
      return sendPage(views, request, reply, failure.page, { retryAfter: failure.retryAfter });
    }
    return commonErrorPage(views, request, reply, error);
  };
}

/** Errors outside the data calls: CSRF, rate limits, bad requests, and bugs. */
export function commonErrorPage(
  views: Views,
  request: FastifyRequest,
  reply: FastifyReply,
  error: Error & { statusCode?: number; code?: string; retryAfterSeconds?: number },
) {
  if (error.code === "FST_CSRF_INVALID_TOKEN" || error.code === "FST_CSRF_MISSING_SECRET") {
    request.log.warn({ code: error.code }, "form refused: CSRF token missing or invalid");
    return sendPage(views, request, reply, "csrf");
  }
  if (error.statusCode === 429) {
    return sendPage(views, request, reply, "rate_limited", { retryAfter: error.retryAfterSeconds });
  }
  if (error.statusCode === 404) return sendPage(views, request, reply, "not_found");
  if (error.statusCode === 503) {
    request.log.warn({ err: error }, "a backing service is unavailable");
    return sendPage(views, request, reply, "unavailable", { retryAfter: 5 });
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    request.log.info({ err: error }, "bad request");
    return sendPage(views, request, reply, "bad_request");
  }
  request.log.error({ err: error }, "unhandled error");
  return sendPage(views, request, reply, "internal");
}
