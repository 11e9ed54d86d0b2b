// The `lifecycle` plugin (docs/design.md, "Credential lifecycle"): a timer that ends
// rotations by themselves, and the lifecycle metrics.
//  * Every SIGNET_LIFECYCLE_INTERVAL_MS it reads the consumers in a rotation (the database
//    is the only state: a restart loses nothing) and ends each grace that is over — its
//    ends_at passed, or the old secret has not been used for finish_when_quiet_seconds,
//    judged on what the pods reported plus the most their reports can lag
//    (LAST_USED_FLUSH_MS and the truncation to the second). The end is decided again on the
//    locked row (`for update skip locked`), so of several registry replicas one announces it.
//  * Metrics: every announcement by kind and its confirmation latency; consumers by state;
//    seconds since each active consumer's last use (read from PostgreSQL at each scrape).
// Decorates `app.lifecycle` (tests call `tick()`).
import fp from "fastify-plugin";
import { Counter, Gauge, Histogram } from "prom-client";
import type { Consumer } from "@signet/shared/db";
import {
  consumerUsage,
  countConsumersByState,
  LAST_USED_FLUSH_MS,
  rotatingConsumers,
  secondsSinceLastUse,
  secretId,
} from "@signet/shared/repos";
import { finishRotationEverywhere } from "../operations/lifecycle.js";
import { CONFIRM_SECONDS_BUCKETS } from "./announcer.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Ends rotations whose grace is over (a timer; `tick()` runs one pass now). */
    lifecycle: { tick(): Promise<number> };
  }
}

/** The actor written to the audit log for what the timer does. */
export const LIFECYCLE_ACTOR = "signet-lifecycle";

/** The most a reported last use lags the real one: a pod's write interval and the truncation to the second. */
const REPORT_LAG_MS = LAST_USED_FLUSH_MS + 1_000;

/**
 * Why the grace of `c`'s old secret is over at `now` (the database's clock), or null: its
 * ends_at passed ("grace_over"), or it has been quiet long enough ("quiet") — unused since
 * max(its last reported use, the rotation) for finish_when_quiet_seconds plus REPORT_LAG_MS.
 */
export function rotationEnd(c: Consumer, lastUsedAt: Date | undefined, now: Date): string | null {
  if (!c.previous_secret_sealed || !c.previous_secret_expires_at) return null;
  if (c.previous_secret_expires_at <= now) return "grace_over";
  const quiet = c.previous_secret_quiet_seconds;
  if (quiet === null) return null;
  const rotatedAt = (c.secret_created_at ?? c.created_at).getTime();
  const since = Math.max(rotatedAt, lastUsedAt?.getTime() ?? 0);
  return now.getTime() - since >= quiet * 1000 + REPORT_LAG_MS ? "quiet" : null;
}

export const lifecycle = fp(
  async (app) => {
    const announced = new Counter({
      name: "signet_registry_lifecycle_announcements_total",
      help: "Announced changes by kind (consumer_revoke, rotate, rotate_finish, rotate_finish_auto, update, consumer_tokens_revoke, user_tokens_revoke, user_disable, user_password, revoke_all)",
      labelNames: ["kind"],
      registers: [app.metrics],
    });
    const confirmSeconds = new Histogram({
      name: "signet_registry_confirmation_seconds",
      help: "From commit until every known data pod confirmed (or the window ended), by kind of change",
      labelNames: ["kind"],
      buckets: CONFIRM_SECONDS_BUCKETS,
      registers: [app.metrics],
    });
    const { db, log } = app;
    new Gauge({
      name: "signet_registry_consumers",
      help: "Consumers by state (active, rotating: an old secret in its grace, expired, revoked), on the database's clock",
      labelNames: ["state"],
      registers: [app.metrics],
      async collect() {
        const counts = await countConsumersByState(db);
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: "signet_registry_consumer_last_used_age_seconds",
      help: "Seconds since each active consumer's last reported use (any secret); consumers never used are absent",
      labelNames: ["key"],
      registers: [app.metrics],
      async collect() {
        this.reset();
        for (const { key, seconds } of await secondsSinceLastUse(db)) this.set({ key }, seconds);
      },
    });
    app.announcer.observe(({ kind, committedAt, gatheredAt }) => {
      announced.inc({ kind });
      confirmSeconds.observe({ kind }, (gatheredAt - committedAt) / 1000);
    });

    /** One pass: ends every rotation that is over; returns how many it ended. */
    const pass = async (): Promise<number> => {
      const rotating = await rotatingConsumers(db);
      if (rotating.length === 0) return 0;
      const usage = await consumerUsage(
        db,
        rotating.map((c) => c.key),
      );
      let ended = 0;
      for (const c of rotating) {
        const oldId = secretId(c.previous_secret_sealed!);
        const due = (locked: Consumer, now: Date) => {
          // the locked row must still be the rotation this pass looked at
          if (locked.previous_secret_sealed !== c.previous_secret_sealed) return null;
          const used = usage.get(c.key)?.get(oldId)?.at;
          return rotationEnd(locked, used ? new Date(used) : undefined, now);
        };
        const done = await finishRotationEverywhere(app.announcer, {
          key: c.key,
          actor: LIFECYCLE_ACTOR,
          due,
        });
        if (done) {
          ended++;
          log.info({ key: c.key, confirmed_pods: done.confirmed_pods }, "rotation finished by itself");
        }
      }
      return ended;
    };

    let running: Promise<number> | undefined;
    const tick = (): Promise<number> => {
      running ??= pass()
        .catch((error: unknown) => {
          log.warn({ err: error }, "lifecycle pass failed; will retry");
          return 0;
        })
        .finally(() => {
          running = undefined;
        });
      return running;
    };
    app.decorate("lifecycle", { tick });

    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const schedule = () => {
      if (stopped) return;
      timer = setTimeout(() => void tick().finally(schedule), app.registryConfig.lifecycleIntervalMs);
      timer.unref();
    };
    app.addHook("onReady", async () => schedule());
    app.addHook("onClose", async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    });
  },
  {
    name: "lifecycle",
    dependencies: ["signet-observability", "db", "announcer"],
    decorators: { fastify: ["registryConfig"] },
  },
);
