// The data service's body parsers: the raw bytes are kept on request.rawBody, because the
// client signed them (docs/api.md, "Body hash"), and then parsed — JSON and forms; any
// other content type is kept for the body hash and never parsed (a route expecting a body
// then answers 400 invalid_input through its schema).
import fp from "fastify-plugin";
import { ApiError } from "@signet/shared/http";

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
        const fields: Record<string, string> = {};
        for (const [name, value] of new URLSearchParams(body.toString("utf8"))) {
          if (!(name in fields) && name !== "__proto__") fields[name] = value;
        }
        done(null, fields);
      },
    );
    app.addContentTypeParser("*", { parseAs: "buffer" }, (request, body: Buffer, done) => {
      request.rawBody = body;
      done(null, undefined);
    });
  },
  { name: "body-parsers" },
);
