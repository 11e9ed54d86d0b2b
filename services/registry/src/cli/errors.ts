// signetctl's exit codes: what scripts can rely on.
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
