// signetctl consumers create|list|show|update|rotate|rotate-finish|revoke-tokens|revoke
import type { Noun } from "./command.js";
import { askLine, confirm, confirmedLine, parseDuration, reasonOption, yesOption } from "./confirm.js";
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

interface LastUsed {
  at: string;
  pod: string;
}

interface ConsumerView {
  key: string;
  name: string;
  scopes: string[];
  status: string;
  created_at: string;
  revoked_at: string | null;
  expires_at: string | null;
  last_used: LastUsed | null;
}

interface SecretView {
  id: string;
  created_at: string;
  ends_at: string | null;
  finish_when_quiet_seconds: number | null;
  last_used: LastUsed | null;
}

const lastUsed = (used: LastUsed | null | undefined) => (used ? `${when(used.at)} on ${used.pod}` : "never");

/**
 * --expires: an ISO 8601 instant, a duration from now (90d), or "never" (null: clears it).
 * Returns undefined when the option is absent.
 */
function parseExpiry(raw: string | undefined): string | null | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === "never") return null;
  if (/^[0-9]{1,7}[smhdw]$/.test(raw.trim())) {
    return new Date(Date.now() + parseDuration("--expires", raw)! * 1000).toISOString();
  }
  const at = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(at.getTime())) {
    throw usageError(
      `--expires must be an ISO 8601 instant, a duration such as 90d, or "never" (got "${raw}")`,
    );
  }
  return at.toISOString();
}

const expiresOption = {
  type: "string" as const,
  label: "--expires <when>",
  description:
    'an ISO 8601 instant or a duration from now (90d); from then every pod refuses it ("never" clears it)',
};

const path = (key: string, suffix = "") => `/consumers/${encodeURIComponent(key)}${suffix}`;

export const consumers: Noun = {
  name: "consumers",
  summary: "calling services: create, list, show, update, rotate, rotate-finish, revoke-tokens, revoke",
  commands: [
    {
      verb: "create",
      args: ["name"],
      summary: "create a consumer; prints its key and secret (the secret is shown only once)",
      details:
        "Scopes: what the consumer may do on the data service. Without --scopes, they are asked for on a\n" +
        `terminal. Known scopes: ${KNOWN_SCOPES.join(", ")} (* grants everything; none grants nothing).`,
      options: {
        expires: expiresOption,
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
        const expiresAt = parseExpiry(values.expires as string | undefined);
        const created = await client.request<ConsumerView & { secret: string }>("POST", "/consumers", {
          name,
          scopes,
          ...(expiresAt !== undefined ? { expires_at: expiresAt } : {}),
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
            ["expires", when(created.expires_at) ?? "never"],
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
      options: {
        "expiring-within": {
          type: "string",
          label: "--expiring-within <duration>",
          description: "only active consumers whose expiry falls within this duration, e.g. 7d",
        },
      },
      async run({ client, output }, _args, values) {
        const within = values["expiring-within"] as string | undefined;
        if (within !== undefined && !/^[0-9]{1,7}[smhdw]$/.test(within)) {
          throw usageError(`--expiring-within must be a duration such as 12h or 7d (got "${within}")`);
        }
        const res = await client.request<{ consumers: ConsumerView[] }>(
          "GET",
          within !== undefined ? `/consumers?expiring_within=${within}` : "/consumers",
        );
        printList(output, res, res.consumers, "(no consumers)", [
          { header: "KEY", value: (c) => c.key },
          { header: "NAME", value: (c) => c.name },
          { header: "STATUS", value: (c) => c.status },
          { header: "SCOPES", value: (c) => shownScopes(c.scopes) },
          { header: "CREATED", value: (c) => when(c.created_at) },
          { header: "REVOKED", value: (c) => when(c.revoked_at) },
          { header: "EXPIRES", value: (c) => when(c.expires_at) },
          { header: "LAST USED", value: (c) => when(c.last_used?.at) },
        ]);
      },
    },
    {
      verb: "show",
      args: ["key"],
      summary: "show one consumer, its expiry and the last use of each live secret",
      options: {},
      async run({ client, output }, [key]) {
        const c = await client.request<ConsumerView & { secrets: SecretView[] }>("GET", path(key!));
        if (output.json) return printJson(output, c);
        output.out(
          block([
            ["key", c.key],
            ["name", c.name],
            ["status", c.status],
            ["scopes", shownScopes(c.scopes)],
            ["created", when(c.created_at)],
            ["revoked", when(c.revoked_at)],
            ["expires", when(c.expires_at) ?? "never"],
            ["last used", lastUsed(c.last_used)],
          ]),
        );
        output.out("");
        printList(output, c, c.secrets, "(no live secret)", [
          { header: "SECRET", value: (s) => s.id },
          { header: "CREATED", value: (s) => when(s.created_at) },
          { header: "ENDS", value: (s) => when(s.ends_at) ?? "current" },
          {
            header: "FINISH WHEN QUIET",
            value: (s) => (s.finish_when_quiet_seconds !== null ? `${s.finish_when_quiet_seconds} s` : null),
          },
          { header: "LAST USED", value: (s) => lastUsed(s.last_used) },
        ]);
      },
    },
    {
      verb: "update",
      args: ["key"],
      summary: "change a consumer's scopes and/or expiry; confirmed by the data pods before it returns",
      details:
        "Removed scopes are refused on every data pod once this returns. Asks first (--yes skips).\n" +
        `Known scopes: ${KNOWN_SCOPES.join(", ")} (* grants everything; "" grants nothing).`,
      options: {
        scopes: {
          type: "string",
          label: "--scopes <scope,...>",
          description: 'the new grant, comma-separated; "*" for everything, "" for nothing',
        },
        scope: {
          type: "string",
          multiple: true,
          label: "--scope <scope>",
          description: "grant one scope (repeatable; adds to --scopes)",
        },
        expires: expiresOption,
        yes: yesOption,
      },
      async run({ client, output }, [key], values) {
        const listed = values.scopes as string | undefined;
        const repeated = (values.scope as string[] | undefined) ?? [];
        const scopes =
          listed !== undefined || repeated.length ? parseScopes([listed ?? "", ...repeated]) : undefined;
        const expiresAt = parseExpiry(values.expires as string | undefined);
        if (scopes === undefined && expiresAt === undefined) {
          throw usageError("consumers update needs --scopes and/or --expires");
        }
        const changes = [
          ...(scopes !== undefined ? [`scopes ${shownScopes(scopes)}`] : []),
          ...(expiresAt !== undefined ? [`expiry ${expiresAt ?? "never"}`] : []),
        ];
        await confirm(`Set ${changes.join(" and ")} for consumer ${key}`, values);
        const res = await client.request<ConsumerView & { confirmed_pods: number }>("PATCH", path(key!), {
          ...(scopes !== undefined ? { scopes } : {}),
          ...(expiresAt !== undefined ? { expires_at: expiresAt } : {}),
        });
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["key", res.key],
            ["scopes", shownScopes(res.scopes)],
            ["expires", when(res.expires_at) ?? "never"],
            confirmedLine(
              output,
              res.confirmed_pods,
              "read the change from PostgreSQL within their cache age",
            ),
          ]),
        );
      },
    },
    {
      verb: "rotate",
      args: ["key"],
      summary: "issue a new secret; the old one keeps working for --grace (default 0: it dies now)",
      details:
        "With --finish-when-quiet the grace ends earlier, by itself, once the old secret has not been\n" +
        "used for that long (judged on the data pods' last-used reports, which lag a few seconds).\n" +
        "Durations: 90 (seconds), 30s, 5m, 1h, 7d. Without a grace, asks first (--yes skips).",
      options: {
        grace: {
          type: "string",
          label: "--grace <duration>",
          description: "how long the old secret stays valid, e.g. 1h (default 0)",
        },
        "grace-seconds": {
          type: "string",
          label: "--grace-seconds <n>",
          description: "the same, in seconds",
        },
        "finish-when-quiet": {
          type: "string",
          label: "--finish-when-quiet <duration>",
          description: "end the grace once the old secret has been unused this long, e.g. 5m",
        },
        yes: yesOption,
      },
      async run({ client, output }, [key], values) {
        const grace =
          parseDuration("--grace", values.grace as string | undefined) ??
          parseDuration("--grace-seconds", values["grace-seconds"] as string | undefined) ??
          0;
        const quiet = parseDuration("--finish-when-quiet", values["finish-when-quiet"] as string | undefined);
        if (quiet !== undefined && (grace === 0 || quiet < 1)) {
          throw usageError("--finish-when-quiet needs a --grace and a duration of at least 1 s");
        }
        if (grace === 0)
          await confirm(`Rotate ${key} with no grace: its current secret stops working now`, values);
        const res = await client.request<{ key: string; secret: string }>("POST", path(key!, "/rotate"), {
          grace_seconds: grace,
          ...(quiet !== undefined ? { finish_when_quiet_seconds: quiet } : {}),
        });
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["key", res.key],
            ["secret", res.secret],
          ]),
        );
        output.err(
          grace > 0
            ? `The old secret keeps working for ${grace} s${quiet !== undefined ? `, or until it has been unused for ${quiet} s` : ""}. The new secret is shown only now: store it safely.`
            : "The old secret no longer works. The new secret is shown only now: store it safely.",
        );
      },
    },
    {
      verb: "rotate-finish",
      args: ["key"],
      summary: "end a rotation's grace now: the old secret is refused on every data pod",
      details: "Asks first (--yes skips).",
      options: { yes: yesOption },
      async run({ client, output }, [key], values) {
        await confirm(`End the rotation of ${key}: its old secret stops working now`, values);
        const res = await client.request<{ key: string; confirmed_pods: number }>(
          "POST",
          path(key!, "/rotate/finish"),
          {},
        );
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["key", res.key],
            ["old secret", "refused"],
            confirmedLine(output, res.confirmed_pods, "refuse the old secret"),
          ]),
        );
      },
    },
    {
      verb: "revoke-tokens",
      args: ["key"],
      summary: "revoke every token issued through a consumer, on every data pod (the consumer stays)",
      details: "Every user signed in through it must log in again. Asks first (--yes skips).",
      options: {
        reason: reasonOption(false),
        yes: yesOption,
      },
      async run({ client, output }, [key], values) {
        const reason = values.reason as string | undefined;
        await confirm(`Revoke every token issued through ${key}`, values);
        const res = await client.request<{ key: string; revoked_tokens: number; confirmed_pods: number }>(
          "POST",
          path(key!, "/tokens/revoke"),
          reason?.trim() ? { reason } : {},
        );
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["key", res.key],
            ["tokens revoked", String(res.revoked_tokens)],
            confirmedLine(output, res.confirmed_pods, "refuse those tokens"),
          ]),
        );
      },
    },
    {
      verb: "revoke",
      args: ["key"],
      summary: "revoke a consumer and every token issued through it, on every data pod",
      details:
        "Waits a short window for the data pods to confirm the eviction and reports how many did.\n" +
        "Pods that did not confirm still refuse the consumer: PostgreSQL is the source of truth.\n" +
        "Asks first (--yes skips).",
      options: {
        reason: reasonOption(true),
        yes: yesOption,
      },
      async run({ client, output }, [key], values) {
        const reason = values.reason as string | undefined;
        if (!reason?.trim()) throw usageError('consumers revoke needs --reason "<why>"');
        await confirm(`Revoke consumer ${key} and every token issued through it`, values);
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
            confirmedLine(output, res.confirmed_pods, "refuse the consumer"),
          ]),
        );
      },
    },
  ],
};
