// The `presence` plugin: the data pod tells the registry it is alive and listening for the
// revocation events, so the registry knows whose confirmations to wait for (and whom to
// name when one does not come) — docs/design.md, "Pod presence". A heartbeat goes out
// once at start (after the revocation subscriptions exist — this plugin depends on
// `revocations` — so a known pod can always confirm), every SIGNET_HEARTBEAT_INTERVAL_MS,
// after a NATS reconnect, and whenever a registry asks (signet.pod.discover, sent at its
// start); a goodbye goes out on a clean shutdown. Payloads: PodHeartbeatEvent /
// PodGoodbyeEvent.
import fp from "fastify-plugin";
import { SUBJECTS } from "@signet/shared/bus";
import { type PodGoodbyeEvent, type PodHeartbeatEvent } from "@signet/shared/events";

/** Longest a goodbye may hold up a shutdown. */
const GOODBYE_TIMEOUT_MS = 1_000;

export const presence = fp(
  async (app) => {
    const { bus } = app;
    const { podId: pod, heartbeatIntervalMs: intervalMs } = app.dataConfig;
    let stopped = false;

    const send = async (subject: string, payload: PodHeartbeatEvent | PodGoodbyeEvent) => {
      // Disconnected: nothing to do, the next beat after the reconnect says we are back.
      if (!bus.isConnected()) return;
      try {
        await bus.publish(subject, payload);
      } catch (error) {
        if (bus.isConnected()) app.log.warn({ err: error }, "presence heartbeat failed");
      }
    };
    const beat = async () => {
      if (stopped) return;
      await send(SUBJECTS.podHeartbeat, { pod, at: new Date().toISOString(), interval_ms: intervalMs });
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

    app.addHook("onClose", async () => {
      stopped = true;
      clearInterval(timer);
      offStatus();
      offDiscover();
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        send(SUBJECTS.podGoodbye, { pod, at: new Date().toISOString() }),
        new Promise<void>((resolve) => {
          timeout = setTimeout(resolve, GOODBYE_TIMEOUT_MS);
          timeout.unref();
        }),
      ]);
      clearTimeout(timeout);
    });
  },
  { name: "presence", dependencies: ["bus", "revocations"] },
);
