// The outbox relay: publishes every outbox row the request path did not (the registry
// died between commit and publish, NATS was down, nobody confirmed), in id order, and
// marks it published. Runs on start and then every `intervalMs`. Several registry
// replicas may run relays at once: rows are claimed with `for update skip locked`, so
// each row is published by one relay.
import { sql, type Kysely } from "kysely";
import type { FastifyBaseLogger } from "fastify";
import type { Bus } from "@signet/shared/bus";
import type { Database } from "@signet/shared/db";

export interface OutboxRelayOptions {
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
      const rows = await trx
        .selectFrom("outbox")
        .select(["id", "subject", "payload"])
        .where("published_at", "is", null)
        .where(
          "created_at",
          "<=",
          sql<Date>`clock_timestamp() - (${minAgeMs}::int * interval '1 millisecond')`,
        )
        .orderBy("id")
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
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
        await trx
          .updateTable("outbox")
          .set({ published_at: new Date() })
          .where("id", "in", published)
          .execute();
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
