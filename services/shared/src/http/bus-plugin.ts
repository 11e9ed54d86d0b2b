// The event bus as a named fastify-plugin plugin: `bus` decorates `app.bus` (NATS, or the
// in-process bus `npm start` hands in), adds the readiness check "nats" for a NATS
// connection and closes only a connection it created. The convention of all three
// services: plugins decorate, routes read decorations; nothing is passed around in
// context objects (docs/design.md, "Conventions").
import fp from "fastify-plugin";
import { Counter } from "prom-client";
import { NatsBus, type Bus, type NatsAuth } from "../bus.js";
import { AuthenticatedBus } from "../bus-auth.js";
import type { Keyring } from "../crypto.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The event bus (the bus plugin). */
    bus: Bus;
  }
}

export interface BusPluginOptions {
  /** A bus the caller owns (`npm start`'s in-process bus); not closed by the app. */
  bus?: Bus | undefined;
  /** Otherwise a NATS connection to these servers (NATS_URL), drained with the app. */
  servers?: string | undefined;
  /** Its credentials (NATS_USER/NATS_PASSWORD or NATS_CREDS), when the server needs them. */
  auth?: NatsAuth | undefined;
  /** The connection's name as the NATS server shows it. */
  name: string;
  /**
   * The master key ring: every message the service sends is sealed and every message it acts
   * on is checked (AuthenticatedBus, docs/design.md "Authenticated bus"); dropped messages are
   * counted in signet_bus_rejected_messages_total. Only the frontend, which acts on no
   * message, goes without.
   */
  keyring?: Keyring | undefined;
  /** false: no "nats" readiness check (the frontend's "sessions" check covers its connection). */
  readinessCheck?: boolean | undefined;
}

export const busPlugin = fp(
  async (app, options: BusPluginOptions) => {
    let bus = options.bus;
    if (!bus) {
      if (!options.servers) throw new Error("the bus plugin needs NATS_URL or a bus handed in");
      const owned = await NatsBus.connect({
        servers: options.servers,
        name: options.name,
        auth: options.auth,
        onHandlerError: (error, subject) => app.log.error({ err: error, subject }, "event handler failed"),
      });
      app.addHook("onClose", async () => owned.close());
      bus = owned;
    }
    const inner = bus;
    if (inner instanceof NatsBus && options.readinessCheck !== false) {
      app.addReadinessCheck("nats", async () => {
        if (!inner.isConnected()) throw new Error("NATS is not connected");
      });
    }
    if (!options.keyring) {
      app.decorate("bus", inner);
      return;
    }
    const rejected = new Counter({
      name: "signet_bus_rejected_messages_total",
      help: "Bus messages and replies dropped unacted: unsigned, forged, tampered, stale, replayed, or a reply to another event",
      labelNames: ["subject", "reason"],
      registers: [app.metrics],
    });
    // One warning per subject and reason a minute: a flood of forgeries must not flood the logs.
    const log = app.log.child({ component: "bus" });
    const lastWarned = new Map<string, number>();
    app.decorate(
      "bus",
      new AuthenticatedBus(inner, {
        keyring: options.keyring,
        onRejected: (subject, reason) => {
          rejected.inc({ subject, reason });
          const key = `${subject} ${reason}`;
          const now = Date.now();
          if ((lastWarned.get(key) ?? 0) + 60_000 > now) return;
          if (lastWarned.size > 1_000) lastWarned.clear();
          lastWarned.set(key, now);
          log.warn({ subject, reason }, "bus message dropped (see signet_bus_rejected_messages_total)");
        },
      }),
    );
  },
  { name: "bus", dependencies: ["signet-observability"] },
);
