// The event bus as a named fastify-plugin plugin: `bus` decorates `app.bus` (NATS, or the
// in-process bus `npm start` hands in), adds the readiness check "nats" for a NATS
// connection and closes only a connection it created. The convention of all three
// services: plugins decorate, routes read decorations; nothing is passed around in
// context objects (docs/design.md, "Conventions").
import fp from "fastify-plugin";
import { NatsBus, type Bus } from "../bus.js";

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
  /** The connection's name as the NATS server shows it. */
  name: string;
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
        onHandlerError: (error, subject) => app.log.error({ err: error, subject }, "event handler failed"),
      });
      app.addHook("onClose", async () => owned.close());
      bus = owned;
    }
    const theBus = bus;
    app.decorate("bus", theBus);
    if (theBus instanceof NatsBus && options.readinessCheck !== false) {
      app.addReadinessCheck("nats", async () => {
        if (!theBus.isConnected()) throw new Error("NATS is not connected");
      });
    }
  },
  { name: "bus", dependencies: ["signet-observability"] },
);
