// The shape of a signetctl command: one module per noun exports its verbs.
import type { AdminClient } from "./client.js";
import type { Output } from "./output.js";

export interface OptionSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** Shown in --help, e.g. "--scope <scope>". */
  label: string;
  description: string;
  /** Shown without brackets in the usage line (the command checks it). */
  required?: boolean;
}

export interface CommandContext {
  client: AdminClient;
  output: Output;
  /** Reads a secret: from stdin with --password-stdin, else by prompting on the terminal. */
  readSecret(prompt: string, options: { fromStdin: boolean; confirm: boolean }): Promise<string>;
}

export interface Command {
  /** The verb; "" for a noun that is its own command (audit). */
  verb: string;
  /** Positional argument names, all required, e.g. ["key"]. */
  args: string[];
  summary: string;
  details?: string;
  options: Record<string, OptionSpec>;
  run(
    ctx: CommandContext,
    args: string[],
    values: Record<string, string | boolean | string[] | undefined>,
  ): Promise<void>;
}

export interface Noun {
  name: string;
  summary: string;
  commands: Command[];
}
