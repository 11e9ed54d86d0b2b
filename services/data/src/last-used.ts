// The last use of each consumer secret, as this pod saw it (docs/design.md, "Credential
// lifecycle"): the hot path only sets a map entry (`record`, no await, no I/O); a timer
// writes what accumulated in one statement every LAST_USED_FLUSH_MS, so each (consumer,
// secret) costs this pod at most one row write per interval. `at` is the pod's clock
// corrected by the offset to the database's clock (measured at each consumer read), to the
// second. Flushed once more on close.
import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import type { Database } from "@signet/shared/db";
import { LAST_USED_FLUSH_MS, recordUsage, type UsageReport } from "@signet/shared/repos";

interface Pending {
  consumer_key: string;
  secret_id: string;
  /** The pod's clock, milliseconds. */
  at: number;
}

export interface LastUsedOptions {
  db: Kysely<Database>;
  pod: string;
  log: FastifyBaseLogger;
  /** The database's clock minus this pod's, in milliseconds (the credential cache measures it). */
  clockOffsetMs: () => number;
  intervalMs?: number;
  /** Called with the number of rows each flush wrote. */
  onFlush?: (rows: number) => void;
}

export class LastUsedRecorder {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(private readonly options: LastUsedOptions) {}

  /** A verified request signed with `secretId` of `consumerKey`: O(1), nothing awaited. */
  record(consumerKey: string, secretId: string, now = Date.now()): void {
    const id = `${consumerKey}\n${secretId}`;
    const entry = this.pending.get(id);
    if (entry) entry.at = now;
    else this.pending.set(id, { consumer_key: consumerKey, secret_id: secretId, at: now });
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.options.intervalMs ?? LAST_USED_FLUSH_MS);
    this.timer.unref();
  }

  /** Writes what accumulated (one statement); a failed write keeps the uses for the next one. Never throws. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const offset = this.options.clockOffsetMs();
    const reports: UsageReport[] = [...batch.values()].map((p) => ({
      consumer_key: p.consumer_key,
      secret_id: p.secret_id,
      at: new Date(Math.floor((p.at + offset) / 1000) * 1000),
      pod: this.options.pod,
    }));
    try {
      await recordUsage(this.options.db, reports);
      this.options.onFlush?.(reports.length);
    } catch (error) {
      this.options.log.warn(
        { err: error, rows: reports.length },
        "could not record last-used times; will retry",
      );
      for (const [id, p] of batch) if (!this.pending.has(id)) this.pending.set(id, p);
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }

  get size(): number {
    return this.pending.size;
  }
}
