// The `revocations` plugin: the pod's end of the revocation path (docs/design.md,
// "Confirmed revocation"). Each signet.* revocation event evicts what it names from this
// pod's credential caches (plugins/credentials.ts); the handler's answer — sent only after
// the eviction — is the pod's confirmation, counted by the registry as confirmed_pods.
// Connection changes clear the caches (while disconnected they are bypassed anyway); the
// not-before a pod keeps needs no re-read: every token read carries the database's.
// Counts handled events in signet_revocation_events_total.
import fp from "fastify-plugin";
import { Counter } from "prom-client";
import { SUBJECTS } from "@signet/shared/bus";
import { type EvictionConfirmation } from "@signet/shared/events";

const field = (payload: unknown, name: string): string | undefined => {
  const value = (payload as Record<string, unknown> | null)?.[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
};

export const revocations = fp(
  async (app) => {
    const handled = new Counter({
      name: "signet_revocation_events_total",
      help: "Revocation events handled (and confirmed) by subject",
      labelNames: ["subject"],
      registers: [app.metrics],
    });
    const { bus, credentials: cache } = app;
    const { podId } = app.dataConfig;

    // Per subject: the payload field naming the target, and what to forget. A payload
    // that does not name its target makes the pod forget everything: never guess.
    const evictions: Record<string, [field: string, evict: (target: string) => void]> = {
      [SUBJECTS.consumerRevoked]: ["key", (key) => cache.evictConsumer(key)],
      [SUBJECTS.consumerRotated]: ["key", (key) => cache.evictConsumerSecrets(key)],
      [SUBJECTS.userDisabled]: ["user_id", (userId) => cache.evictUser(userId)],
      [SUBJECTS.tokenRevoked]: ["token", (token) => cache.evictToken(token)],
      // scopes, expiry, a rotation's end, its tokens revoked: forget the consumer and its
      // tokens and read them anew (docs/design.md, "Credential lifecycle")
      [SUBJECTS.consumerUpdated]: ["key", (key) => cache.evictConsumer(key)],
      [SUBJECTS.tokensNotBefore]: [
        "issued_before",
        (instant) => {
          const at = new Date(instant);
          if (Number.isNaN(at.getTime())) cache.clear();
          else cache.applyNotBefore(at);
        },
      ],
    };
    const offs = Object.entries(evictions).map(([subject, [name, evict]]) =>
      bus.subscribe(subject, (payload, actualSubject): EvictionConfirmation => {
        const target = field(payload, name);
        if (target) evict(target);
        else cache.clear();
        handled.inc({ subject: actualSubject });
        return { pod: podId, subject: actualSubject, evicted: true };
      }),
    );
    offs.push(
      bus.onStatus((status) => {
        cache.clear();
        app.log.warn({ status }, `NATS ${status}; credential caches cleared`);
      }),
    );
    app.addHook("onClose", async () => {
      for (const off of offs) off();
    });
  },
  { name: "revocations", dependencies: ["signet-observability", "bus", "credentials"] },
);
