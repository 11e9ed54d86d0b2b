// GET and POST /signup (docs/api.md, "Pages and forms"): the form, the account created through
// the data service, then signed in. POST is CSRF-checked and rate-limited per address; the
// field rules are @signet/shared/rules, the data service's own.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { SignetApiError } from "@signet/shared/client";
import {
  DISPLAY_NAME_MAX,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  USERNAME_RE,
} from "@signet/shared/rules";
import { field } from "../forms.js";
import { sendForm } from "../plugins/csrf.js";
import { perMinute } from "../plugins/rate-limit.js";
import { safeNext } from "../safe-next.js";
import { signedIn, startSession } from "../session.js";

interface SignupFields {
  next: string;
  error?: string;
  field?: string;
  values?: Record<string, string>;
}

export const signupRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { views, dataClient } = app;

  /** The sign-up form: its hidden `next`, and an error naming its field with the values typed. */
  const renderSignup = (request: FastifyRequest, reply: FastifyReply, fields: SignupFields, status = 200) =>
    sendForm(
      views,
      request,
      reply,
      "signup",
      { title: "Sign up", values: {}, passwordMin: PASSWORD_MIN_LENGTH, ...fields },
      status,
    );

  app.get("/signup", async (request, reply) => {
    const next = safeNext(field(request.query, "next"));
    if (typeof signedIn(request) === "object") return reply.redirect(next);
    return renderSignup(request, reply, { next });
  });

  app.post(
    "/signup",
    { preHandler: app.csrfProtection, config: perMinute(app.frontendConfig.signupRateLimit) },
    async (request, reply) => {
      const next = safeNext(field(request.body, "next"));
      const values = {
        username: field(request.body, "username").trim(),
        display_name: field(request.body, "display_name").trim(),
      };
      const password = field(request.body, "password");
      const invalid = (error: string, which: string, status = 400) =>
        renderSignup(request, reply, { error, field: which, values, next }, status);
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
        await dataClient.signUp(
          { username: values.username, password, display_name: values.display_name, clientIp: request.ip },
          request.id,
        );
      } catch (error) {
        if (error instanceof SignetApiError) {
          if (error.code === "username_taken" || error.status === 409) {
            return invalid(
              `The username “${values.username}” is already taken. Please choose another one.`,
              "username",
              409,
            );
          }
          if (error.code === "invalid_input" || error.status === 400) {
            return invalid("Some details were not accepted. Check them and try again.", "");
          }
        }
        throw error;
      }
      const login = await dataClient.authenticate(
        { username: values.username, password, clientIp: request.ip },
        request.id,
      );
      await startSession(request, reply, login);
      request.log.info({ user_id: login.user.id }, "user signed up");
      return reply.redirect(next, 303);
    },
  );
};
