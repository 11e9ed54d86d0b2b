// The account page (docs/api.md, "Pages and forms"): GET /account, and its forms — the
// display name (PATCH /me), the time zone (kept in the session: time-zones.ts), the password
// (POST /me/password: every other session of the user ends, this one stays, under a new id)
// and "Sign out everywhere" (POST /logout {"everywhere": true}: every session, this one
// included, then /login). Every form is CSRF-checked; the password form is rate limited like
// the login form (and, at the data service, counts a wrong current password as a failed login).
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { SignetApiError } from "@signet/shared/client";
import {
  CONTROL_CHARACTER_RE,
  DISPLAY_NAME_MAX,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  passwordProblem,
} from "@signet/shared/rules";
import { field } from "../forms.js";
import { sendForm } from "../plugins/csrf.js";
import { perMinute } from "../plugins/rate-limit.js";
import { loginUrl } from "../safe-next.js";
import { endSession, renewSessionId, requireUser, type SignedIn } from "../session.js";
import { isTimeZone, TIME_ZONES, zoneOf } from "../time-zones.js";

/** What /account?done=… says (fixed texts: nothing from the URL is echoed). */
const DONE: Record<string, string> = {
  name: "Your display name is saved.",
  "time-zone": "Times are now shown in your chosen zone.",
  password: "Your password is changed. Every other session of yours has been signed out.",
};

type Section = "name" | "password";

export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { views, dataClient } = app;

  function renderAccount(
    request: FastifyRequest,
    reply: FastifyReply,
    who: SignedIn,
    options: {
      status?: number;
      notice?: string;
      error?: string;
      errorFor?: Section;
      displayName?: string;
    } = {},
  ) {
    return sendForm(
      views,
      request,
      reply,
      "account",
      {
        title: "Your account",
        accountPage: true,
        user: who.user,
        displayName: options.displayName ?? who.user.display_name,
        timeZones: TIME_ZONES,
        timeZone: zoneOf(request.session.timeZone),
        passwordMin: PASSWORD_MIN_LENGTH,
        notice: options.notice,
        error: options.error,
        errorFor: options.errorFor,
      },
      options.status,
    );
  }

  app.get("/account", async (request, reply) => {
    const who = await requireUser(request, reply, "/account");
    if (!who) return reply;
    // the data service is asked: a session whose token died elsewhere ends here, and a name
    // changed in another session shows
    const user = await dataClient.me(who.token, request.id);
    if (user.display_name !== who.user.display_name) request.session.user = { ...who.user, ...user };
    const done = field(request.query, "done");
    return renderAccount(
      request,
      reply,
      { ...who, user: request.session.user ?? who.user },
      {
        notice: Object.hasOwn(DONE, done) ? DONE[done] : undefined,
      },
    );
  });

  app.post("/account/name", { preHandler: app.csrfProtection }, async (request, reply) => {
    const who = await requireUser(request, reply, "/account");
    if (!who) return reply;
    const displayName = field(request.body, "display_name").trim();
    const refuse = (error: string) =>
      renderAccount(request, reply, who, { status: 400, error, errorFor: "name", displayName });
    if (!displayName || displayName.length > DISPLAY_NAME_MAX || CONTROL_CHARACTER_RE.test(displayName)) {
      return refuse(`A display name has 1 to ${DISPLAY_NAME_MAX} characters on one line.`);
    }
    let user;
    try {
      user = await dataClient.updateProfile(who.token, displayName, request.id);
    } catch (error) {
      if (error instanceof SignetApiError && error.code === "invalid_input") {
        return refuse("That display name was not accepted. Try another one.");
      }
      throw error;
    }
    request.session.user = { ...who.user, display_name: user.display_name };
    return reply.redirect("/account?done=name", 303);
  });

  app.post("/account/time-zone", { preHandler: app.csrfProtection }, async (request, reply) => {
    const who = await requireUser(request, reply, "/account");
    if (!who) return reply;
    const zone = field(request.body, "time_zone");
    if (!isTimeZone(zone)) {
      return renderAccount(request, reply, who, { status: 400, error: "Choose a time zone from the list." });
    }
    request.session.timeZone = zone;
    return reply.redirect("/account?done=time-zone", 303);
  });

  app.post(
    "/account/password",
    { preHandler: app.csrfProtection, config: perMinute(app.frontendConfig.loginRateLimit) },
    async (request, reply) => {
      const who = await requireUser(request, reply, "/account");
      if (!who) return reply;
      const current = field(request.body, "current_password");
      const next = field(request.body, "new_password");
      const repeat = field(request.body, "repeat_password");
      const refuse = (status: number, error: string) =>
        renderAccount(request, reply, who, { status, error, errorFor: "password" });
      if (!current || current.length > PASSWORD_MAX_LENGTH)
        return refuse(400, "Enter your current password.");
      const problem = passwordProblem(who.user.username, next);
      if (problem) {
        return refuse(
          400,
          `Choose a new password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters that does not contain your username.`,
        );
      }
      if (next !== repeat) return refuse(400, "The two new passwords differ. Type the same one twice.");
      try {
        await dataClient.changePassword(who.token, { current, next, clientIp: request.ip }, request.id);
      } catch (error) {
        if (error instanceof SignetApiError) {
          if (error.code === "invalid_credentials") return refuse(401, "Your current password is not right.");
          if (error.code === "invalid_input") return refuse(400, "That new password was not accepted.");
          if (error.code === "rate_limited") {
            if (error.retryAfter !== undefined) reply.header("retry-after", String(error.retryAfter));
            return refuse(429, "Too many attempts. Try again in a minute.");
          }
        }
        throw error;
      }
      // whoever may have learnt this session's id loses it with the old password
      await renewSessionId(request);
      request.log.info({ user_id: who.user.id }, "password changed; other sessions signed out");
      return reply.redirect("/account?done=password", 303);
    },
  );

  app.post("/account/sign-out-everywhere", { preHandler: app.csrfProtection }, async (request, reply) => {
    const who = await requireUser(request, reply);
    if (!who) return reply;
    // if this fails the session stays: the user must not believe the other devices signed out
    await dataClient.logoutEverywhere(who.token, request.id);
    request.log.info({ user_id: who.user.id }, "signed out everywhere");
    await endSession(request, reply);
    return reply.redirect(loginUrl("/", "signed_out_everywhere"), 303);
  });
};
