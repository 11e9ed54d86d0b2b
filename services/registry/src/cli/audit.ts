// signetctl audit [--limit n]
import type { Noun } from "./command.js";
import { usageError } from "./errors.js";
import { printList, when } from "./output.js";

interface AuditEvent {
  at: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

export const audit: Noun = {
  name: "audit",
  summary: "the audit log, newest first",
  commands: [
    {
      verb: "",
      args: [],
      summary: "show the audit log, newest first",
      options: {
        limit: { type: "string", label: "--limit <n>", description: "how many events (1-1000, default 50)" },
      },
      async run({ client, output }, _args, values) {
        const raw = values.limit as string | undefined;
        const limit = raw === undefined ? 50 : Number(raw);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          throw usageError(`--limit must be a whole number from 1 to 1000 (got "${raw}")`);
        const res = await client.request<{ events: AuditEvent[] }>("GET", `/audit?limit=${limit}`);
        printList(output, res, res.events, "(no events)", [
          { header: "AT", value: (e) => when(e.at) },
          { header: "ACTOR", value: (e) => e.actor },
          { header: "ACTION", value: (e) => e.action },
          { header: "TARGET", value: (e) => e.target },
          {
            header: "DETAILS",
            value: (e) => (Object.keys(e.details).length ? JSON.stringify(e.details) : ""),
          },
        ]);
      },
    },
  ],
};
