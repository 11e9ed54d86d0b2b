// The outbox relay (docs/design.md, "Outbox and relay"): publishes every outbox row the
// announcer did not (the registry died between commit and publish, NATS was down, nobody
// confirmed), in id order, and marks it published. Runs on start and then every
// `intervalMs`. Several registry replicas may run relays at once: rows are claimed with
// `for update skip locked`, so each row is published by one relay.
// The `outbox-relay` plugin decorates `app.outboxRelay` (started once the app is ready,
// stopped on close) and owns signet_registry_outbox_relayed_total.
import fp from "fastify-plugin";
import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import { Counter } from "prom-client";
import type { Bus } from "@signet/shared/bus";
import type { Database } from "@signet/shared/db";
import { claimUnpublished, markPublished } from "@signet/shared/repos";

declare module "fastify" {
  interface FastifyInstance {
    /** The registry's outbox relay (tests stop it, or drive `tick()` directly). */
    outboxRelay: OutboxRelay;
  }
}

interface OutboxRelayOptions {
  db: Kysely<Database>;
  bus: Bus;
  log: FastifyBaseLogger;
  intervalMs: number;
  /** Rows younger than this are left to the request that wrote them. */
  minAgeMs: number;
  batchSize?: number;
  onPublished?: (count: number) => void;
}

export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;

  constructor(private readonly options: OutboxRelayOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule(this.options.intervalMs));
    }, delay);
    this.timer.unref();
  }

  /** Publishes what is pending now; returns how many rows were published. Never throws. */
  tick(): Promise<number> {
    this.running ??= this.drain()
      .catch((error: unknown) => {
        this.options.log.warn({ err: error }, "outbox relay pass failed; will retry");
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async drain(): Promise<number> {
    const batchSize = this.options.batchSize ?? 100;
    let total = 0;
    for (;;) {
      if (!this.options.bus.isConnected()) return total;
      const { published, claimed } = await this.pass(batchSize);
      total += published;
      if (published > 0) this.options.onPublished?.(published);
      if (claimed < batchSize || published < claimed) return total;
    }
  }

  private async pass(batchSize: number): Promise<{ published: number; claimed: number }> {
    const { db, bus, minAgeMs, log } = this.options;
    return db.transaction().execute(async (trx) => {
      const rows = await claimUnpublished(trx, { minAgeMs, limit: batchSize });
      const published: string[] = [];
      for (const row of rows) {
        try {
          await bus.publish(row.subject, row.payload);
        } catch (error) {
          log.warn({ err: error, outbox_id: row.id }, "outbox relay could not publish; will retry");
          break; // keep the order: later rows wait for this one
        }
        published.push(String(row.id));
      }
      if (published.length > 0) {
        await markPublished(trx, published);
        log.info({ count: published.length }, "outbox relay published pending events");
      }
      return { published: published.length, claimed: rows.length };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

export const outboxRelay = fp(
  async (app) => {
    const relayed = new Counter({
      name: "signet_registry_outbox_relayed_total",
      help: "Outbox events published by the relay (not by the request that wrote them)",
      registers: [app.metrics],
    });
    const relay = new OutboxRelay({
      db: app.db,
      bus: app.bus,
      log: app.log.child({ component: "outbox-relay" }),
      intervalMs: app.registryConfig.relayIntervalMs,
      minAgeMs: app.registryConfig.relayMinAgeMs,
      onPublished: (count) => relayed.inc(count),
    });
    app.decorate("outboxRelay", relay);
    app.addHook("onReady", async () => relay.start());
    app.addHook("onClose", async () => relay.stop());
  },
  {
    name: "outbox-relay",
    dependencies: ["signet-observability", "db", "bus"],
    decorators: { fastify: ["registryConfig"] },
  },
);
