// GET and POST /login (docs/api.md, "Pages and forms"): the form, and the sign-in through the
// data service, which starts the session. POST is CSRF-checked and rate-limited per address.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { SignetApiError } from "@signet/shared/client";
import { LOGIN_USERNAME_MAX, PASSWORD_MAX_LENGTH } from "@signet/shared/rules";
import { field } from "../forms.js";
import { LOGIN_REASONS } from "../pages.js";
import { sendForm } from "../plugins/csrf.js";
import type { LoginResult } from "../plugins/data-client.js";
import { perMinute } from "../plugins/rate-limit.js";
import { safeNext } from "../safe-next.js";
import { signedIn, startSession } from "../session.js";
import { DEFAULT_TIME_ZONE, isTimeZone, TIME_ZONES } from "../time-zones.js";

interface LoginFields {
  next: string;
  notice?: string | undefined;
  error?: string;
  username?: string;
  timeZone?: string;
}

export const loginRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { views, dataClient } = app;

  /** The login form: its hidden `next`, and a notice, an error, the username and zone chosen. */
  const renderLogin = (request: FastifyRequest, reply: FastifyReply, fields: LoginFields, status = 200) =>
    sendForm(
      views,
      request,
      reply,
      "login",
      { title: "Log in", timeZones: TIME_ZONES, timeZone: DEFAULT_TIME_ZONE, ...fields },
      status,
    );

  app.get("/login", async (request, reply) => {
    const next = safeNext(field(request.query, "next"));
    if (typeof signedIn(request) === "object") return reply.redirect(next);
    const reason = field(request.query, "reason");
    return renderLogin(request, reply, {
      next,
      notice: Object.hasOwn(LOGIN_REASONS, reason) ? LOGIN_REASONS[reason] : undefined,
    });
  });

  app.post(
    "/login",
    { preHandler: app.csrfProtection, config: perMinute(app.frontendConfig.loginRateLimit) },
    async (request, reply) => {
      const next = safeNext(field(request.body, "next"));
      const username = field(request.body, "username").trim();
      const password = field(request.body, "password");
      // optional; anything but a known zone name is ignored (UTC), never an error
      const chosenZone = field(request.body, "time_zone");
      const timeZone = isTimeZone(chosenZone) ? chosenZone : undefined;
      const refuse = (status: number, error: string, shown = username) =>
        renderLogin(
          request,
          reply,
          { error, username: shown, next, ...(timeZone ? { timeZone } : {}) },
          status,
        );
      if (!username || !password) return refuse(400, "Enter your username and your password.");
      if (username.length > LOGIN_USERNAME_MAX || password.length > PASSWORD_MAX_LENGTH) {
        return refuse(401, "Incorrect username or password.", "");
      }
      let login: LoginResult;
      try {
        login = await dataClient.authenticate({ username, password, clientIp: request.ip }, request.id);
      } catch (error) {
        if (error instanceof SignetApiError) {
          if (error.code === "invalid_credentials" || error.code === "invalid_input") {
            return refuse(401, "Incorrect username or password.");
          }
          if (error.code === "user_disabled") return refuse(403, LOGIN_REASONS.user_disabled!);
          if (error.code === "rate_limited" || error.status === 429) {
            if (error.retryAfter !== undefined) reply.header("retry-after", String(error.retryAfter));
            const wait = error.retryAfter
              ? ` Try again in ${error.retryAfter} seconds.`
              : " Try again in a minute.";
            return refuse(429, `Too many login attempts.${wait}`);
          }
        }
        throw error;
      }
      await startSession(request, reply, login, timeZone);
      request.log.info({ user_id: login.user.id }, "user logged in");
      return reply.redirect(next, 303);
    },
  );
};
