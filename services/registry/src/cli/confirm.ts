// Confirmation for destructive verbs: --yes skips it; on a terminal the operator types y;
// with no terminal to ask and no --yes the command refuses (exit 2) rather than guess.
import { createInterface } from "node:readline";
import type { OptionSpec } from "./command.js";
import { durationSeconds } from "../durations.js";
import { usageError } from "./errors.js";
import { escapeControls } from "./output.js";

export const yesOption: OptionSpec = {
  type: "boolean",
  short: "y",
  label: "--yes",
  description: "do not ask for confirmation (needed without a terminal)",
};

/** --reason, written to the audit log with the change; `required` for the verbs that insist. */
export const reasonOption = (required: boolean): OptionSpec => ({
  type: "string",
  ...(required ? { required: true } : {}),
  label: "--reason <text>",
  description: required ? "why (required; written to the audit log)" : "why (written to the audit log)",
});

/** One line typed on the terminal (visible); Ctrl-C or Ctrl-D cancels. */
export function askLine(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  return new Promise((resolve, reject) => {
    let answered = false;
    rl.on("SIGINT", () => rl.close());
    rl.on("close", () => {
      if (!answered) reject(usageError("cancelled"));
    });
    rl.question(escapeControls(prompt), (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
  });
}

/** Goes on only with --yes or a "y" typed on the terminal; `what` says what will happen. */
export async function confirm(what: string, values: Record<string, unknown>): Promise<void> {
  if (values.yes === true) return;
  if (!process.stdin.isTTY) {
    throw usageError(`${what}: refusing without --yes (no terminal to ask for confirmation)`);
  }
  const answer = (await askLine(`${what}. Continue? [y/N] `)).trim().toLowerCase();
  if (answer !== "y" && answer !== "yes") throw usageError("cancelled: nothing was changed");
}

/** "90", "30s", "5m", "1h", "7d", "2w" as seconds; anything else is a usage error naming `option`. */
export function parseDuration(option: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = durationSeconds(raw);
  if (seconds === undefined)
    throw usageError(`${option} must be a duration such as 30s, 5m, 1h, 7d (got "${raw}")`);
  return seconds;
}

/**
 * The "confirmed pods" line of a confirmed change, with a warning on stderr when no data pod
 * confirmed: `what` says what the pods do regardless ("refuse the consumer").
 */
export function confirmedLine(
  output: { err(text: string): void },
  pods: number,
  what: string,
): [string, string] {
  if (pods === 0) {
    output.err(
      `No data pod confirmed within the window (NATS down, or no pods?). They still ${what}: PostgreSQL is the source of truth; the event will be re-sent.`,
    );
  }
  return ["confirmed pods", String(pods)];
}
