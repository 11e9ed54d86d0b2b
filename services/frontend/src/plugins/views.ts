// Page rendering with Eta: templates in views/, every `<%= %>` escaped (autoEscape).
// Decorates app.views.
import { Eta } from "eta";
import type { FastifyReply } from "fastify";
import fp from "fastify-plugin";
import { VIEWS_DIR } from "../paths.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The page templates (the views plugin). */
    views: Views;
  }
}

const dateFormat = new Intl.DateTimeFormat("en-GB", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "UTC",
});

function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${dateFormat.format(date)} UTC`;
}

export class Views {
  private readonly eta = new Eta({ views: VIEWS_DIR, autoEscape: true, autoTrim: false, cache: true });

  /** Sends a page: HTML, never cached by browsers or proxies (pages may show the user's data). */
  send(reply: FastifyReply, name: string, data: Record<string, unknown>, status = 200): FastifyReply {
    return reply
      .code(status)
      .header("cache-control", "no-store")
      .type("text/html; charset=utf-8")
      .send(this.eta.render(`./${name}`, { formatDate, user: undefined, csrfToken: "", ...data }));
  }
}

export const views = fp(
  async (app) => {
    app.decorate("views", new Views());
  },
  { name: "views" },
);
