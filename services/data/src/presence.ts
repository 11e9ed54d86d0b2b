// Pod presence: the data pod tells the registry it is alive and listening for the
// revocation events, so the registry knows whose confirmations to wait for (and whom to
// name when one does not come). A heartbeat goes out once at start (after the revocation
// subscriptions exist, so a known pod can always confirm), every `intervalMs`, after a
// NATS reconnect, and whenever a registry asks (signet.pod.discover, sent at its start);
// a goodbye goes out on a clean shutdown. Payloads: PodHeartbeatEvent / PodGoodbyeEvent.
import { SUBJECTS, type Bus } from "@signet/shared/bus";
import { type PodGoodbyeEvent, type PodHeartbeatEvent } from "@signet/shared/events";

export interface PresenceOptions {
  bus: Bus;
  podId: string;
  intervalMs: number;
  /** Called when a heartbeat could not be sent while the bus claimed to be connected. */
  onError?: (error: unknown) => void;
}

export interface Presence {
  /** Sends a heartbeat now (resolves once sent or given up; never rejects). */
  beat(): Promise<void>;
  /** Stops the heartbeats; with `goodbye` (the default) tells the registry first. */
  stop(options?: { goodbye?: boolean }): Promise<void>;
}

/** Longest a goodbye may hold up a shutdown. */
const GOODBYE_TIMEOUT_MS = 1_000;

/** Starts announcing this pod; the first heartbeat is sent at once. */
export function announcePresence({ bus, podId, intervalMs, onError }: PresenceOptions): Presence {
  let stopped = false;

  const send = async (subject: string, payload: PodHeartbeatEvent | PodGoodbyeEvent) => {
    // Disconnected: nothing to do, the next beat after the reconnect says we are back.
    if (!bus.isConnected()) return;
    try {
      await bus.publish(subject, payload);
    } catch (error) {
      if (bus.isConnected()) onError?.(error);
    }
  };
  const beat = async () => {
    if (stopped) return;
    await send(SUBJECTS.podHeartbeat, { pod: podId, at: new Date().toISOString(), interval_ms: intervalMs });
  };

  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  const offStatus = bus.onStatus((status) => {
    if (status === "reconnected") void beat();
  });
  const offDiscover = bus.subscribe(SUBJECTS.podDiscover, () => {
    void beat();
    return undefined;
  });
  void beat();

  return {
    beat,
    async stop({ goodbye = true } = {}) {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      offStatus();
      offDiscover();
      if (!goodbye) return;
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        send(SUBJECTS.podGoodbye, { pod: podId, at: new Date().toISOString() }),
        new Promise<void>((resolve) => {
          timeout = setTimeout(resolve, GOODBYE_TIMEOUT_MS);
          timeout.unref();
        }),
      ]);
      clearTimeout(timeout);
    },
  };
}
