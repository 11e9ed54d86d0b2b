// signetctl's exit codes: what scripts can rely on.
import { didYouMean } from "./suggest.js";
export const EXIT = {
  /** Success. */
  ok: 0,
  /** The registry refused the request (validation, not found, conflict, server error). */
  api: 1,
  /** Wrong usage: unknown command or option, missing argument. */
  usage: 2,
  /** The registry could not be reached (connection refused, DNS, timeout). */
  unreachable: 3,
  /** Authentication: SIGNET_ADMIN_TOKEN missing, or the registry answered 401. */
  auth: 4,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  the registry refused the request (invalid input, not found, conflict, server error)
  2  usage error (unknown command or option, missing argument)
  3  the registry is unreachable (connection refused, DNS failure, timeout)
  4  authentication failed (SIGNET_ADMIN_TOKEN unset or rejected: 401)`;

export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    /** The API's error code, when the registry answered one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string) => new CliError(EXIT.usage, message);

/**
 * A node:util parseArgs failure in signetctl's words: the option named, what `command`
 * takes instead (`known`, e.g. ["--scopes", "--json"]), and the nearest one.
 */
export function optionError(error: unknown, command: string, known: readonly string[]): CliError {
  const { code, message = String(error) } = error as { code?: string; message?: string };
  const name = /'(-{1,2}[^' =]+)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && name)
    return usageError(
      `${command} has no option ${name}${didYouMean(name, known, false)} (its options: ${known.join(", ")})`,
    );
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && name) {
    if (message.includes("argument missing")) return usageError(`${name} needs a value: ${name} <value>`);
    if (message.includes("does not take an argument")) return usageError(`${name} takes no value`);
  }
  return usageError(message);
}
