// signetctl pods: the data pods the registry knows from their heartbeats (GET /pods).
import type { Noun } from "./command.js";
import { printList, when } from "./output.js";

interface PodView {
  pod: string;
  last_seen: string;
  interval_ms: number;
}

/** 5000 → "5s", 1500 → "1.5s", 150 → "150ms" */
const duration = (ms: number) => (ms >= 1000 ? `${Number((ms / 1000).toFixed(1))}s` : `${ms}ms`);

export const pods: Noun = {
  name: "pods",
  summary: "the data pods the registry knows (the confirmations a revoke waits for)",
  commands: [
    {
      verb: "",
      args: [],
      summary: "list the data pods the registry knows from their heartbeats, by name",
      details:
        "A revoke (or rotate, disable, password reset) waits for exactly these pods to confirm.\n" +
        "LAST SEEN is when the registry received the pod's last heartbeat (the registry's clock);\n" +
        "a pod is forgotten on its goodbye or after 3 INTERVALs without a heartbeat.",
      options: {},
      async run({ client, output }) {
        const res = await client.request<{ pods: PodView[] }>("GET", "/pods");
        printList(output, res, res.pods, "(no data pods known)", [
          { header: "POD", value: (p) => p.pod },
          { header: "LAST SEEN", value: (p) => when(p.last_seen) },
          { header: "INTERVAL", value: (p) => duration(p.interval_ms) },
        ]);
        if (!output.json && res.pods.length === 0) {
          output.err(
            "A revoke waits its whole confirmation window while no pod is known (are the data pods connected to NATS?).",
          );
        }
      },
    },
  ],
};
