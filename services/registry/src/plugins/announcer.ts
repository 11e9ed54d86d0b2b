// The one announcement path (docs/design.md, "One announcement path"): the shared
// Announcer over this app's database and bus, waiting for the data pods pod presence
// knows (docs/design.md, "Confirmed revocation"). The `announcer` plugin decorates
// `app.announcer` and owns the confirmation metrics, fed by observing every announcement.
import fp from "fastify-plugin";
import { Counter, Histogram } from "prom-client";
import { Announcer } from "@signet/shared/announce";

declare module "fastify" {
  interface FastifyInstance {
    /** Commits a change with its outbox row, publishes it and gathers the pods' confirmations. */
    announcer: Announcer;
  }
}

/** Histogram buckets for "from commit until the pods confirmed", in seconds (this plugin and lifecycle.ts). */
export const CONFIRM_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export const announcer = fp(
  async (app) => {
    const { confirmWindowMs, confirmExpected } = app.registryConfig;
    const confirmed = new Histogram({
      name: "signet_registry_confirmed_pods",
      help: "Data pods that confirmed an announced event within the window",
      labelNames: ["subject"],
      buckets: [0, 1, 2, 3, 5, 8, 13, 21],
      registers: [app.metrics],
    });
    const announceSeconds = new Histogram({
      name: "signet_registry_announce_seconds",
      help: "From commit to the end of confirmation gathering",
      labelNames: ["subject"],
      buckets: CONFIRM_SECONDS_BUCKETS,
      registers: [app.metrics],
    });
    const unconfirmed = new Counter({
      name: "signet_registry_unconfirmed_pods_total",
      help: "Known data pods (alive by their heartbeats) that did not confirm an announced event within the window; each is named in a warning log",
      labelNames: ["subject"],
      registers: [app.metrics],
    });

    const theAnnouncer = new Announcer({
      db: app.db,
      bus: app.bus,
      log: app.log,
      windowMs: confirmWindowMs,
      expected: confirmExpected,
      presence: app.podPresence,
    });
    theAnnouncer.observe(({ subject, confirmedPods, unconfirmedPods, committedAt, gatheredAt }) => {
      confirmed.observe({ subject }, confirmedPods);
      announceSeconds.observe({ subject }, (gatheredAt - committedAt) / 1000);
      if (unconfirmedPods.length > 0) unconfirmed.inc({ subject }, unconfirmedPods.length);
    });
    app.decorate("announcer", theAnnouncer);
  },
  {
    name: "announcer",
    dependencies: ["signet-observability", "db", "bus", "pod-presence"],
    decorators: { fastify: ["registryConfig"] },
  },
);
