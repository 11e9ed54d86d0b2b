// The data service's body parsers: the raw bytes are kept on request.rawBody, because the
// client signed them (docs/api.md, "Body hash"), and then parsed — JSON and forms; any
// other content type is kept for the body hash and never parsed (a route expecting a body
// then answers 400 invalid_input through its schema). A form body obeys the parameter
// rules (docs/api.md, "Limits"; @signet/shared/oauth parseParameters) before it is decoded:
// with the query, at most MAX_PARAMETERS; no name twice, in the body or in both; else 400.
import fp from "fastify-plugin";
import { ApiError, invalidInput } from "@signet/shared/http";
import { parseParameters } from "@signet/shared/oauth";
import { MAX_PARAMETERS } from "@signet/shared/rules";

declare module "fastify" {
  interface FastifyRequest {
    /** The raw body bytes, as signed. */
    rawBody: Buffer | undefined;
  }
}

export const bodyParsers = fp(
  async (app) => {
    app.decorateRequest("rawBody", undefined);
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body: Buffer, done) => {
      request.rawBody = body;
      if (body.length === 0) return done(null, undefined);
      try {
        done(null, JSON.parse(body.toString("utf8")) as unknown);
      } catch {
        done(new ApiError(400, "invalid_input", "the body is not valid JSON"), undefined);
      }
    });
    app.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "buffer" },
      (request, body: Buffer, done) => {
        request.rawBody = body;
        // the query passed the same rules already (installErrorHandlers): its names are unique
        const query = (request.query ?? {}) as Record<string, unknown>;
        const parsed = parseParameters(body.toString("utf8"), {
          max: MAX_PARAMETERS - Object.keys(query).length,
          taken: (name) => Object.hasOwn(query, name),
        });
        if (parsed.refused !== undefined) return done(invalidInput(parsed.refused), undefined);
        done(null, parsed.fields);
      },
    );
    app.addContentTypeParser("*", { parseAs: "buffer" }, (request, body: Buffer, done) => {
      request.rawBody = body;
      done(null, undefined);
    });
  },
  { name: "body-parsers" },
);
