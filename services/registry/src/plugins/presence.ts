// Which data pods are alive: the set the announcer waits on when it gathers eviction
// confirmations (docs/design.md, "Pod presence"). A pod is known from its first
// signet.pod.heartbeat until its goodbye (clean shutdown) or until it has been silent for 3
// of the intervals it announced (crash, lost NATS connection). Ages are measured on this
// process's monotonic clock, never against the pod's `at`, so clock skew does not matter.
// At start and after every NATS reconnect the registry asks every pod for a heartbeat
// (signet.pod.discover), so it does not have to wait an interval to know them.
// The `pod-presence` plugin decorates `app.podPresence` and owns the
// signet_registry_known_data_pods gauge.
import fp from "fastify-plugin";
import type { FastifyBaseLogger } from "fastify";
import { Gauge } from "prom-client";
import { SUBJECTS, type Bus } from "@signet/shared/bus";
import { type PodDiscoverEvent } from "@signet/shared/events";

declare module "fastify" {
  interface FastifyInstance {
    /** The data pods the registry knows to be alive (GET /pods, the announcer). */
    podPresence: PodPresence;
  }
}

interface PodPresenceOptions {
  bus: Bus;
  log: FastifyBaseLogger;
}

interface PodEntry {
  lastSeen: number;
  expiresAt: number;
  /** Wall-clock time the registry received the last heartbeat (shown to people, never compared). */
  receivedAt: Date;
  intervalMs: number;
}

/** A known pod as GET /pods shows it. */
interface KnownPod {
  pod: string;
  /** When the registry received its last heartbeat (this process's wall clock, not the pod's `at`). */
  lastSeen: Date;
  /** The heartbeat interval the registry uses for it: the announced one, clamped, or the default. */
  intervalMs: number;
}

/** A pod is forgotten after this many of its heartbeat intervals without one. */
const MISSED_BEATS = 3;
/** The interval assumed for a heartbeat that does not carry a usable `interval_ms`. */
const DEFAULT_INTERVAL_MS = 5_000;
const MIN_INTERVAL_MS = 50;
const MAX_INTERVAL_MS = 5 * 60_000;
/** A bound on the set, against a flood of made-up pod ids on the bus. */
const MAX_PODS = 10_000;

const podField = (payload: unknown): string | undefined => {
  const pod = (payload as { pod?: unknown } | null)?.pod;
  return typeof pod === "string" && pod.length > 0 && pod.length <= 256 ? pod : undefined;
};

class PodPresence {
  private readonly pods = new Map<string, PodEntry>();
  private readonly offs: (() => void)[] = [];
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: PodPresenceOptions) {}

  /** Subscribes to the presence subjects and asks every pod to announce itself. */
  start(): void {
    const { bus } = this.options;
    this.offs.push(
      bus.subscribe(SUBJECTS.podHeartbeat, (payload) => void this.heartbeat(payload)),
      bus.subscribe(SUBJECTS.podGoodbye, (payload) => void this.goodbye(payload)),
      bus.onStatus((status) => {
        if (status === "reconnected") void this.discover();
      }),
    );
    // Forgetting also happens on every read; the sweep only makes the log line timely.
    this.sweeper = setInterval(() => this.prune(), 1_000);
    this.sweeper.unref();
    void this.discover();
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
    clearInterval(this.sweeper);
  }

  /** The pods heard from recently, in the order they were first seen. */
  known(): string[] {
    this.prune();
    return [...this.pods.keys()];
  }

  /** The pods heard from recently, sorted by pod id, with their last heartbeat (GET /pods). */
  list(): KnownPod[] {
    this.prune();
    return [...this.pods]
      .map(([pod, e]) => ({ pod, lastSeen: e.receivedAt, intervalMs: Math.round(e.intervalMs) }))
      .sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
  }

  get size(): number {
    this.prune();
    return this.pods.size;
  }

  /** Asks every data pod for a heartbeat now (they answer by publishing one). */
  private async discover(): Promise<void> {
    const { bus, log } = this.options;
    if (!bus.isConnected()) return;
    const payload: PodDiscoverEvent = { at: new Date().toISOString() };
    await bus.publish(SUBJECTS.podDiscover, payload).catch((error: unknown) => {
      log.warn({ err: error }, "could not ask the data pods to announce themselves");
    });
  }

  private heartbeat(payload: unknown): void {
    const pod = podField(payload);
    if (!pod) return;
    const raw = (payload as { interval_ms?: unknown }).interval_ms;
    const interval =
      typeof raw === "number" && Number.isFinite(raw)
        ? Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, raw))
        : DEFAULT_INTERVAL_MS;
    const now = performance.now();
    const receivedAt = new Date();
    const entry = this.pods.get(pod);
    if (entry) {
      entry.lastSeen = now;
      entry.expiresAt = now + MISSED_BEATS * interval;
      entry.receivedAt = receivedAt;
      entry.intervalMs = interval;
      return;
    }
    if (this.pods.size >= MAX_PODS) return;
    this.pods.set(pod, {
      lastSeen: now,
      expiresAt: now + MISSED_BEATS * interval,
      receivedAt,
      intervalMs: interval,
    });
    this.options.log.info({ pod, known_pods: this.pods.size }, "data pod joined");
  }

  private goodbye(payload: unknown): void {
    const pod = podField(payload);
    if (!pod || !this.pods.delete(pod)) return;
    this.options.log.info({ pod, known_pods: this.pods.size }, "data pod left");
  }

  private prune(): void {
    const now = performance.now();
    for (const [pod, entry] of this.pods) {
      if (entry.expiresAt > now) continue;
      this.pods.delete(pod);
      this.options.log.warn(
        { pod, silent_ms: Math.round(now - entry.lastSeen), known_pods: this.pods.size },
        "data pod forgotten: no heartbeat",
      );
    }
  }
}

export const podPresence = fp(
  async (app) => {
    const presence = new PodPresence({ bus: app.bus, log: app.log.child({ component: "presence" }) });
    new Gauge({
      name: "signet_registry_known_data_pods",
      help: "Data pods whose heartbeat (signet.pod.heartbeat) the registry heard recently: the confirmations a revoke waits for",
      registers: [app.metrics],
      collect() {
        this.set(presence.size);
      },
    });
    presence.start();
    app.addHook("onClose", async () => presence.stop());
    app.decorate("podPresence", presence);
  },
  { name: "pod-presence", dependencies: ["signet-observability", "bus"] },
);
