// Static files: public/ under /static/, Pico's classless CSS under /static/pico/ (served
// locally, never from a CDN: the CSP allows 'self' only), /favicon.ico and /robots.txt.
import fastifyStatic from "@fastify/static";
import fp from "fastify-plugin";
import { PICO_CSS_DIR, PUBLIC_DIR } from "../paths.js";

export const staticFiles = fp(
  async (app) => {
    await app.register(fastifyStatic, {
      root: PUBLIC_DIR,
      prefix: "/static/",
      maxAge: "1h",
      index: false,
      wildcard: false,
    });
    await app.register(fastifyStatic, {
      root: PICO_CSS_DIR,
      prefix: "/static/pico/",
      maxAge: "1d",
      index: false,
      wildcard: false,
      decorateReply: false,
      allowedPath: (pathName) => /^\/pico\.classless(\.[a-z]+)?\.min\.css$/.test(pathName),
    });
    app.get("/favicon.ico", async (_request, reply) => reply.redirect("/static/favicon.svg", 301));
    app.get("/robots.txt", async (_request, reply) => reply.sendFile("robots.txt"));
  },
  { name: "static" },
);
