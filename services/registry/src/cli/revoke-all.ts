// signetctl revoke-all --before <instant|now> --reason <text>: the emergency not-before.
import type { Noun } from "./command.js";
import { confirm, confirmedLine, reasonOption, yesOption } from "./confirm.js";
import { usageError } from "./errors.js";
import { block, printJson, when } from "./output.js";

/** "now" (the registry's database clock) or an ISO 8601 instant. */
function parseBefore(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === "") throw usageError("revoke-all needs --before <instant|now>");
  if (raw.trim() === "now") return "now";
  const at = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(at.getTime())) {
    throw usageError(`--before must be "now" or an ISO 8601 instant (got "${raw}")`);
  }
  return at.toISOString();
}

export const revokeAll: Noun = {
  name: "revoke-all",
  summary: "every token issued before an instant dies on every data pod (consumers stay)",
  commands: [
    {
      verb: "",
      args: [],
      summary: "every token issued before --before is refused on every data pod; consumers are untouched",
      details:
        "The emergency button: every user signs in again. The instant only ever moves forward, and may\n" +
        'not be in the future; "now" is the registry database\'s clock. Asks first (--yes skips).',
      options: {
        before: {
          type: "string",
          required: true,
          label: "--before <instant|now>",
          description: 'an ISO 8601 instant, or "now"',
        },
        reason: reasonOption(true),
        yes: yesOption,
      },
      async run({ client, output }, _args, values) {
        const before = parseBefore(values.before as string | undefined);
        const reason = values.reason as string | undefined;
        if (!reason?.trim()) throw usageError('revoke-all needs --reason "<why>"');
        await confirm(`Revoke every token issued before ${before}: every user must sign in again`, values);
        const res = await client.request<{ issued_before: string; confirmed_pods: number }>(
          "POST",
          "/revoke-all",
          {
            issued_before: before,
            reason,
          },
        );
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["issued before", when(res.issued_before)],
            confirmedLine(output, res.confirmed_pods, "refuse those tokens"),
          ]),
        );
      },
    },
  ],
};
