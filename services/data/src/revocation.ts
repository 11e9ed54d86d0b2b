// The revocation path on a data pod: the signet.* events evict what they name from this
// pod's caches, and the handler's answer — sent only after the eviction — is the pod's
// confirmation, counted by the registry as confirmed_pods. Connection changes clear the
// caches (while disconnected they are bypassed anyway, see credential-cache.ts).
import { SUBJECTS, type Bus } from "@signet/shared/bus";
import { type EvictionConfirmation } from "@signet/shared/events";
import type { CredentialCache } from "./credential-cache.js";

export interface RevocationOptions {
  bus: Bus;
  cache: CredentialCache;
  podId: string;
  /** Called for every event handled (metrics, logs). */
  onEvent?: (subject: string, payload: unknown) => void;
}

const field = (payload: unknown, name: string): string | undefined => {
  const value = (payload as Record<string, unknown> | null)?.[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
};

/** Subscribes to the revocation subjects; returns the unsubscribe function. */
export function listenForRevocations({ bus, cache, podId, onEvent }: RevocationOptions): () => void {
  const confirm = (subject: string): EvictionConfirmation => ({ pod: podId, subject, evicted: true });

  // A payload that does not name its target makes the pod forget everything: never guess.
  const handlers: Record<string, (payload: unknown) => void> = {
    [SUBJECTS.consumerRevoked]: (p) => {
      const key = field(p, "key");
      if (key) cache.evictConsumer(key);
      else cache.clear();
    },
    [SUBJECTS.consumerRotated]: (p) => {
      const key = field(p, "key");
      if (key) cache.evictConsumerSecrets(key);
      else cache.clear();
    },
    [SUBJECTS.userDisabled]: (p) => {
      const userId = field(p, "user_id");
      if (userId) cache.evictUser(userId);
      else cache.clear();
    },
    [SUBJECTS.tokenRevoked]: (p) => {
      const token = field(p, "token");
      if (token) cache.evictToken(token);
      else cache.clear();
    },
  };

  const unsubscribes = Object.entries(handlers).map(([subject, evict]) =>
    bus.subscribe(subject, (payload, actualSubject) => {
      evict(payload);
      onEvent?.(actualSubject, payload);
      return confirm(actualSubject);
    }),
  );
  const offStatus = bus.onStatus(() => cache.clear());

  return () => {
    for (const off of unsubscribes) off();
    offStatus();
  };
}
