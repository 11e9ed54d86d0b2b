// signetctl consumers create|list|show|rotate|revoke
import { createInterface } from "node:readline";
import type { Noun } from "./command.js";
import { usageError } from "./errors.js";
import { block, printJson, printList, when } from "./output.js";

/**
 * The scopes a consumer can be granted (docs/api.md, "Scopes"; the same list as SCOPES in
 * @signet/shared/rules, which the CLI does not import — a test keeps them equal).
 */
export const KNOWN_SCOPES = "authenticate users:create notes:read notes:write client-address *".split(" ");

/** "a,b" (or several --scope) as a scope list; an unknown name is a usage error (exit 2). */
function parseScopes(parts: string[]): string[] {
  const scopes = parts
    .flatMap((part) => part.split(","))
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !KNOWN_SCOPES.includes(s));
  if (unknown.length) {
    throw usageError(
      `unknown scope ${unknown.map((s) => JSON.stringify(s)).join(", ")}; the scopes are ${KNOWN_SCOPES.join(", ")}`,
    );
  }
  return [...new Set(scopes)];
}

/** One line typed on the terminal (visible); Ctrl-C or Ctrl-D cancels. */
function askLine(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  return new Promise((resolve, reject) => {
    let answered = false;
    rl.on("SIGINT", () => rl.close());
    rl.on("close", () => {
      if (!answered) reject(usageError("cancelled"));
    });
    rl.question(prompt, (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
  });
}

/** The scopes to create `name` with: --scopes / --scope, else asked for on a terminal. */
async function scopesFor(name: string, values: Record<string, unknown>): Promise<string[]> {
  const listed = values.scopes as string | undefined;
  const repeated = (values.scope as string[] | undefined) ?? [];
  if (listed !== undefined || repeated.length) return parseScopes([listed ?? "", ...repeated]);
  if (!process.stdin.isTTY) {
    throw usageError(
      `consumers create needs --scopes <scope,...> (${KNOWN_SCOPES.join(", ")}; "*" for everything, "" for nothing)`,
    );
  }
  return parseScopes([
    await askLine(
      `Scopes for ${name}, comma-separated (${KNOWN_SCOPES.slice(0, -1).join(", ")}; * for everything; empty for nothing): `,
    ),
  ]);
}

const shownScopes = (scopes: string[]) => scopes.join(",") || "(none)";

interface ConsumerView {
  key: string;
  name: string;
  scopes: string[];
  status: string;
  created_at: string;
  revoked_at: string | null;
}

const parseGrace = (raw: string | undefined): number => {
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw usageError(`--grace-seconds must be a whole number of seconds (got "${raw}")`);
  return n;
};

export const consumers: Noun = {
  name: "consumers",
  summary: "calling services: create, list, show, rotate, revoke",
  commands: [
    {
      verb: "create",
      args: ["name"],
      summary: "create a consumer; prints its key and secret (the secret is shown only once)",
      details:
        "Scopes: what the consumer may do on the data service. Without --scopes, they are asked for on a\n" +
        `terminal. Known scopes: ${KNOWN_SCOPES.join(", ")} (* grants everything; none grants nothing).`,
      options: {
        scopes: {
          type: "string",
          required: true,
          label: "--scopes <scope,...>",
          description: 'what it may do, comma-separated; "*" for everything, "" for nothing',
        },
        scope: {
          type: "string",
          multiple: true,
          label: "--scope <scope>",
          description: "grant one scope (repeatable; adds to --scopes)",
        },
      },
      async run({ client, output }, [name], values) {
        const scopes = await scopesFor(name!, values);
        const created = await client.request<ConsumerView & { secret: string }>("POST", "/consumers", {
          name,
          scopes,
        });
        if (output.json) return printJson(output, created);
        output.out(
          block([
            ["key", created.key],
            ["secret", created.secret],
            ["name", created.name],
            ["scopes", shownScopes(created.scopes)],
            ["status", created.status],
            ["created", when(created.created_at)],
          ]),
        );
        output.err("The secret is shown only now: store it safely.");
        if (created.scopes.length === 0) output.err("It is granted no scope: every data route refuses it.");
      },
    },
    {
      verb: "list",
      args: [],
      summary: "list consumers (never their secrets)",
      options: {},
      async run({ client, output }) {
        const res = await client.request<{ consumers: ConsumerView[] }>("GET", "/consumers");
        printList(output, res, res.consumers, "(no consumers)", [
          { header: "KEY", value: (c) => c.key },
          { header: "NAME", value: (c) => c.name },
          { header: "STATUS", value: (c) => c.status },
          { header: "SCOPES", value: (c) => shownScopes(c.scopes) },
          { header: "CREATED", value: (c) => when(c.created_at) },
          { header: "REVOKED", value: (c) => when(c.revoked_at) },
        ]);
      },
    },
    {
      verb: "show",
      args: ["key"],
      summary: "show one consumer",
      options: {},
      async run({ client, output }, [key]) {
        const c = await client.request<ConsumerView>("GET", `/consumers/${encodeURIComponent(key!)}`);
        if (output.json) return printJson(output, c);
        output.out(
          block([
            ["key", c.key],
            ["name", c.name],
            ["status", c.status],
            ["scopes", shownScopes(c.scopes)],
            ["created", when(c.created_at)],
            ["revoked", when(c.revoked_at)],
          ]),
        );
      },
    },
    {
      verb: "rotate",
      args: ["key"],
      summary: "issue a new secret; the old one keeps working for --grace-seconds (default 0)",
      options: {
        "grace-seconds": {
          type: "string",
          label: "--grace-seconds <n>",
          description: "seconds the old secret stays valid (default 0)",
        },
      },
      async run({ client, output }, [key], values) {
        const grace = parseGrace(values["grace-seconds"] as string | undefined);
        const res = await client.request<{ key: string; secret: string }>(
          "POST",
          `/consumers/${encodeURIComponent(key!)}/rotate`,
          {
            grace_seconds: grace,
          },
        );
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["key", res.key],
            ["secret", res.secret],
          ]),
        );
        output.err(
          grace > 0
            ? `The old secret keeps working for ${grace} s. The new secret is shown only now: store it safely.`
            : "The old secret no longer works. The new secret is shown only now: store it safely.",
        );
      },
    },
    {
      verb: "revoke",
      args: ["key"],
      summary: "revoke a consumer and every token issued through it, on every data pod",
      details:
        "Waits a short window for the data pods to confirm the eviction and reports how many did.\n" +
        "Pods that did not confirm still refuse the consumer: PostgreSQL is the source of truth.",
      options: {
        reason: {
          type: "string",
          required: true,
          label: "--reason <text>",
          description: "why (required; written to the audit log)",
        },
      },
      async run({ client, output }, [key], values) {
        const reason = values.reason as string | undefined;
        if (!reason?.trim()) throw usageError('consumers revoke needs --reason "<why>"');
        const res = await client.request<{
          key: string;
          status: string;
          revoked_at: string;
          confirmed_pods: number;
        }>("POST", `/consumers/${encodeURIComponent(key!)}/revoke`, { reason });
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["key", res.key],
            ["status", res.status],
            ["revoked", when(res.revoked_at)],
            ["confirmed pods", String(res.confirmed_pods)],
          ]),
        );
        if (res.confirmed_pods === 0) {
          output.err(
            "No data pod confirmed within the window (NATS down, or no pods?). They still refuse the consumer; the event will be re-sent.",
          );
        }
      },
    },
  ],
};
