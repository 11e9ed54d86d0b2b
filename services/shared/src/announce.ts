// The one announcement path. Every state change that data pods must hear about goes
// through `Announcer.commitAndAnnounce`:
//   1. one transaction: the caller's change (through repos) and its outbox row;
//   2. commit;
//   3. publish the event at once and, for a confirmed announcement, collect the data pods'
//      confirmations for a short, bounded window (`bus.gather`), stopping early once every
//      data pod known to be alive has confirmed — and at least `expected` pods, when that
//      is set; known pods that did not confirm are named in a warning;
//   4. mark the outbox row published once the event is out (confirmed: at least one pod
//      confirmed; unconfirmed: the publish succeeded).
// If the process dies after 2, or NATS is down, or nobody confirmed, the row stays
// unpublished and the registry's outbox relay publishes it later. PostgreSQL is the source
// of truth either way: the caller answers only after the commit.
// Used by the registry's operations (revoke, rotate, disable, password) and by the data
// service's logout; see docs/design.md, "Confirmed revocation".
import type { Kysely, Transaction } from "kysely";
import type { FastifyBaseLogger } from "fastify";
import type { Bus } from "./bus.js";
import type { Database } from "./db/schema.js";
import type { EvictionConfirmation } from "./events.js";
import { addOutboxEvent, markPublished } from "./repos/outbox.js";

export interface AnnouncedEvent {
  subject: string;
  payload: Record<string, unknown>;
  outboxId: string;
}

export interface AnnouncementReport extends AnnouncedEvent {
  /** What the change was (AnnounceOptions.kind; the subject when not given), for metrics. */
  kind: string;
  confirmedPods: number;
  /** The pods known to be alive when the event was published. */
  knownPods: string[];
  /** Those of `knownPods` that did not confirm within the window. */
  unconfirmedPods: string[];
  committedAt: number;
  gatheredAt: number;
}

/** Who is listening: the data pods known to be alive (the registry's pod presence). */
export interface KnownPods {
  known(): string[];
}

export interface AnnouncerOptions {
  db: Kysely<Database>;
  bus: Bus;
  log: FastifyBaseLogger;
  /** How long to collect confirmations, at most. */
  windowMs: number;
  /**
   * A floor (SIGNET_CONFIRM_EXPECTED): never stop before this many pods confirmed. 0 = no
   * floor: stop once every known pod confirmed (with no pod known, wait the whole window).
   */
  expected: number;
  /** The data pods known to be alive; without it, only `expected` can end the window early. */
  presence?: KnownPods;
}

/** Hears the report of each announcement (metrics, benchmarks, tests). */
export type AnnouncementObserver = (report: AnnouncementReport) => void;

/** What a change returns: the event's payload and the caller's result. */
export interface Change<R> {
  payload: Record<string, unknown>;
  result: R;
}

export interface AnnounceOptions {
  /**
   * true (default): gather the pods' confirmations and count them. false: publish and move
   * on (the data service's logout, which evicts locally and needs no count).
   */
  confirm?: boolean;
  /**
   * What the change is, in metrics and reports (consumer_revoke, rotate_finish, narrow_scopes,
   * revoke_all, ...): one subject carries several kinds of change. Default: the subject.
   */
  kind?: string;
}

/** A data pod's answer after evicting (EvictionConfirmation in events.ts). */
function isConfirmation(reply: unknown, subject: string): boolean {
  if (!reply || typeof reply !== "object") return false;
  const r = reply as Partial<EvictionConfirmation>;
  return r.evicted === true && (r.subject === undefined || r.subject === subject);
}

/** The pod id of a confirmation, when it names one. */
const podOf = (reply: unknown): string | undefined => {
  const pod = (reply as { pod?: unknown } | null)?.pod;
  return typeof pod === "string" ? pod : undefined;
};

export class Announcer {
  /**
   * Runs right after the commit, before anything is published. A failure injection point
   * for tests ("the process dies between commit and publish"): when it throws, nothing is
   * published and the request fails; the outbox row stays for the relay. Tests set it on
   * the decorated announcer; production never does.
   */
  afterCommit: ((event: AnnouncedEvent) => void | Promise<void>) | undefined;

  private readonly observers = new Set<AnnouncementObserver>();

  constructor(readonly options: AnnouncerOptions) {}

  /** Calls `observer` with the report of every announcement from now on; returns how to stop. */
  observe(observer: AnnouncementObserver): () => void {
    this.observers.add(observer);
    return () => void this.observers.delete(observer);
  }

  /** The database the changes run against (operations read through it before a change). */
  get db(): Kysely<Database> {
    return this.options.db;
  }

  /**
   * Publishes and gathers confirmations until every pod in `known` and at least `expected`
   * pods confirmed, or the window ends. With no pod known and no floor, nothing tells the
   * announcer when it has heard everyone: it waits the window.
   */
  private async gather(
    subject: string,
    payload: Record<string, unknown>,
    known: readonly string[],
  ): Promise<{ confirmations: number; confirmedBy: Set<string> }> {
    const { bus, windowMs, expected } = this.options;
    const waitingFor = new Set(known);
    const confirmedBy = new Set<string>();
    let confirmations = 0;
    const canStop = known.length > 0 || expected > 0;
    await bus.gather(subject, payload, {
      windowMs,
      until: (reply) => {
        if (!isConfirmation(reply, subject)) return false;
        confirmations++;
        const pod = podOf(reply);
        if (pod !== undefined) {
          confirmedBy.add(pod);
          waitingFor.delete(pod);
        }
        return canStop && waitingFor.size === 0 && confirmations >= expected;
      },
    });
    return { confirmations, confirmedBy };
  }

  /**
   * Runs `change` in a transaction that also writes the outbox row for the event it
   * returns, commits, then publishes (and, unless `confirm: false`, collects confirmations).
   */
  async commitAndAnnounce<R>(
    subject: string,
    change: (trx: Transaction<Database>) => Promise<Change<R>>,
    { confirm = true, kind = subject }: AnnounceOptions = {},
  ): Promise<{ result: R; confirmedPods: number }> {
    const { db, bus, log } = this.options;
    const { result, payload, outboxId } = await db.transaction().execute(async (trx) => {
      const done = await change(trx);
      const id = await addOutboxEvent(trx, subject, done.payload);
      return { ...done, outboxId: id };
    });
    const committedAt = performance.now();
    const event = { subject, payload, outboxId };
    await this.afterCommit?.(event);

    const knownPods = confirm ? (this.options.presence?.known() ?? []) : [];
    let confirmedPods = 0;
    let confirmedBy = new Set<string>();
    let published = false;
    if (bus.isConnected()) {
      try {
        if (confirm) {
          ({ confirmations: confirmedPods, confirmedBy } = await this.gather(subject, payload, knownPods));
          // Nobody confirmed: leave the row to the relay, which publishes it again once
          // (harmless for pods that did evict, a second chance for any that did not).
          published = confirmedPods > 0;
        } else {
          await bus.publish(subject, payload);
          published = true;
        }
      } catch (error) {
        log.warn(
          { err: error, subject, outbox_id: outboxId },
          "publishing failed; the outbox relay will retry",
        );
      }
    } else {
      log.warn(
        { subject, outbox_id: outboxId },
        "NATS is not connected; the outbox relay will publish the event",
      );
    }
    const gatheredAt = performance.now();
    const unconfirmedPods = knownPods.filter((pod) => !confirmedBy.has(pod));
    if (unconfirmedPods.length > 0) {
      log.warn(
        {
          subject,
          outbox_id: outboxId,
          unconfirmed_pods: unconfirmedPods,
          known_pods: knownPods.length,
          confirmed_pods: confirmedPods,
          window_ms: this.options.windowMs,
        },
        `data pods did not confirm within the window: ${unconfirmedPods.join(", ")}`,
      );
    }
    if (published) {
      await markPublished(db, [outboxId]).catch((error: unknown) => {
        log.warn(
          { err: error, outbox_id: outboxId },
          "could not mark the outbox row published; the relay will republish it",
        );
      });
    }
    const report: AnnouncementReport = {
      ...event,
      kind,
      confirmedPods,
      knownPods,
      unconfirmedPods,
      committedAt,
      gatheredAt,
    };
    for (const observer of this.observers) observer(report);
    return { result, confirmedPods };
  }

  /**
   * The unconfirmed form for a change that ends several things at once (a user's tokens on
   * "sign out everywhere" or a password change): one transaction writes the change and one
   * outbox row per payload; after the commit each event is published and the rows that
   * went out are marked published. What cannot be published now stays for the relay.
   */
  async commitAndPublishAll<R>(
    subject: string,
    change: (trx: Transaction<Database>) => Promise<{ payloads: Record<string, unknown>[]; result: R }>,
  ): Promise<R> {
    const { db, bus, log } = this.options;
    const { result, events } = await db.transaction().execute(async (trx) => {
      const done = await change(trx);
      const events: { payload: Record<string, unknown>; outboxId: string }[] = [];
      for (const payload of done.payloads) {
        events.push({ payload, outboxId: await addOutboxEvent(trx, subject, payload) });
      }
      return { result: done.result, events };
    });
    if (events.length === 0) return result;
    if (!bus.isConnected()) {
      log.warn(
        { subject, events: events.length },
        "NATS is not connected; the outbox relay will publish the events",
      );
      return result;
    }
    const published = await Promise.all(
      events.map(({ payload, outboxId }) =>
        bus.publish(subject, payload).then(
          () => outboxId,
          (error: unknown) => {
            log.warn(
              { err: error, subject, outbox_id: outboxId },
              "publishing failed; the outbox relay will retry",
            );
            return undefined;
          },
        ),
      ),
    );
    await markPublished(
      db,
      published.filter((id): id is string => id !== undefined),
    ).catch((error: unknown) => log.warn({ err: error }, "could not mark the outbox rows published"));
    return result;
  }
}
