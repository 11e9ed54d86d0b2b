// signetctl: the operator CLI over the registry's admin API (the entry point is main.ts).
// Keep the CLI free of @signet/* imports: bin/signetctl.js runs the source through tsx without the @signet/source condition.
//   signetctl <noun> <verb> [arguments] [--json] [--help]
// Reads SIGNET_REGISTRY_URL (default http://127.0.0.1:8001) and SIGNET_ADMIN_TOKEN.
import { parseArgs } from "node:util";
import type { Command, Noun } from "./command.js";
import { AdminClient, DEFAULT_REGISTRY_URL } from "./client.js";
import { CliError, EXIT, EXIT_CODES_HELP, optionError, usageError } from "./errors.js";
import { didYouMean } from "./suggest.js";
import { stdOutput } from "./output.js";
import { readSecret } from "./secret.js";
import { consumers } from "./consumers.js";
import { users } from "./users.js";
import { audit } from "./audit.js";
import { pods } from "./pods.js";
import { revokeAll } from "./revoke-all.js";

const NOUNS: Noun[] = [consumers, users, revokeAll, audit, pods];

const GLOBAL_OPTIONS = `Options (every command):
  --json          machine-readable JSON on stdout (errors as JSON on stderr)
  --url <url>     the registry (default: $SIGNET_REGISTRY_URL, else ${DEFAULT_REGISTRY_URL})
  -h, --help      help for the command
  --version       print signetctl's version (alone: signetctl --version)`;

const ENVIRONMENT = `Environment:
  SIGNET_REGISTRY_URL  the registry's base URL (default ${DEFAULT_REGISTRY_URL})
  SIGNET_ADMIN_TOKEN   an admin token from the registry's SIGNET_ADMIN_TOKENS (required)`;

/** The end of every help text: the global options, the environment, the exit codes. */
const REFERENCE = [GLOBAL_OPTIONS, ENVIRONMENT, EXIT_CODES_HELP].join("\n\n");

/** Indented "name  description" lines, the descriptions aligned. */
const twoColumns = (rows: (readonly [string, string])[]) => {
  const width = Math.max(0, ...rows.map(([name]) => name.length));
  return rows.map(([name, description]) => `  ${name.padEnd(width)}  ${description}`);
};

const usageLine = (noun: Noun, c: Command) =>
  [
    "signetctl",
    noun.name,
    c.verb,
    ...c.args.map((a) => `<${a}>`),
    ...Object.values(c.options).map((o) => (o.required ? o.label : `[${o.label}]${o.multiple ? "..." : ""}`)),
  ]
    .filter(Boolean)
    .join(" ");

function mainHelp(): string {
  const commands = NOUNS.flatMap((n) =>
    n.commands.map((c) => [`${n.name}${c.verb ? ` ${c.verb}` : ""}`, c.summary] as const),
  );
  return [
    "signetctl: operate the Signet registry (consumers, users, audit log, data pods)",
    "",
    "Usage: signetctl <noun> <verb> [arguments] [options]",
    "",
    "Commands:",
    ...twoColumns(commands),
    "",
    REFERENCE,
    "",
    "Run `signetctl <noun> --help` or `signetctl <noun> <verb> --help` for details.",
  ].join("\n");
}

function nounHelp(noun: Noun): string {
  if (noun.commands.length === 1 && noun.commands[0]!.verb === "")
    return commandHelp(noun, noun.commands[0]!);
  return [
    `signetctl ${noun.name}: ${noun.summary}`,
    "",
    "Usage:",
    ...noun.commands.map((c) => `  ${usageLine(noun, c)}`),
    "",
    "Verbs:",
    ...twoColumns(noun.commands.map((c) => [c.verb, c.summary])),
    "",
    GLOBAL_OPTIONS,
    "",
    EXIT_CODES_HELP,
  ].join("\n");
}

function commandHelp(noun: Noun, c: Command): string {
  const options = Object.values(c.options);
  return [
    `Usage: ${usageLine(noun, c)}`,
    "",
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`,
    ...(c.details ? ["", c.details] : []),
    ...(options.length ? ["", "Options:", ...twoColumns(options.map((o) => [o.label, o.description]))] : []),
    "",
    REFERENCE,
  ].join("\n");
}

/** Options that take a value, so the word after them is not a noun or verb. */
const VALUE_OPTIONS = new Set([
  "--url",
  ...NOUNS.flatMap((n) =>
    n.commands.flatMap((c) =>
      Object.entries(c.options)
        .filter(([, o]) => o.type === "string")
        .map(([name]) => `--${name}`),
    ),
  ),
]);

/** The first two words that are not options (skipping the value after --url). */
function words(argv: string[]): { noun?: string; verb?: string; rest: string[] } {
  const found: number[] = [];
  for (let i = 0; i < argv.length && found.length < 2; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith("-")) found.push(i);
  }
  const noun = found[0] !== undefined ? argv[found[0]] : undefined;
  const rest = argv.filter((_, i) => i !== found[0]);
  return { noun, verb: found[1] !== undefined ? argv[found[1]] : undefined, rest };
}

export async function main(argv: string[]): Promise<number> {
  const wantsJson = argv.includes("--json");
  const output = stdOutput(wantsJson);
  const wantsHelp = argv.includes("--help") || argv.includes("-h");
  try {
    const { noun: nounName, rest } = words(argv);
    if (!nounName || nounName === "help") {
      if (wantsHelp || nounName === "help" || argv.length === 0) {
        output.out(mainHelp());
        return argv.length === 0 ? EXIT.usage : EXIT.ok;
      }
      const option = argv.find((a) => a.startsWith("-") && !["--json", "--url"].includes(a));
      if (option !== undefined && !VALUE_OPTIONS.has(option))
        throw usageError(
          `unknown option ${option}${didYouMean(option, ["--help", "--version", "--json", "--url"], false)}`,
        );
      throw usageError(
        `missing command: signetctl <noun> <verb> (the commands: ${NOUNS.map((n) => n.name).join(", ")})`,
      );
    }
    const noun = NOUNS.find((n) => n.name === nounName);
    if (!noun) {
      const names = NOUNS.map((n) => n.name);
      throw usageError(
        `unknown command "${nounName}"${didYouMean(nounName, names)} (the commands: ${names.join(", ")})`,
      );
    }

    let command: Command | undefined;
    let args = rest;
    if (noun.commands.length === 1 && noun.commands[0]!.verb === "") {
      command = noun.commands[0]!;
    } else {
      const { noun: verb, rest: afterVerb } = words(rest);
      if (!verb) {
        output.out(nounHelp(noun));
        return wantsHelp ? EXIT.ok : EXIT.usage;
      }
      command = noun.commands.find((c) => c.verb === verb);
      if (!command)
        throw usageError(
          `unknown verb "${verb}" for ${noun.name}${didYouMean(
            verb,
            noun.commands.map((c) => c.verb),
          )} (one of: ${noun.commands.map((c) => c.verb).join(", ")})`,
        );
      args = afterVerb;
    }
    if (wantsHelp) {
      output.out(commandHelp(noun, command));
      return EXIT.ok;
    }

    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: {
          ...Object.fromEntries(
            Object.entries(command.options).map(([name, o]) => [
              name,
              {
                type: o.type,
                ...(o.multiple ? { multiple: true } : {}),
                ...(o.short ? { short: o.short } : {}),
              },
            ]),
          ),
          json: { type: "boolean" },
          url: { type: "string" },
          help: { type: "boolean", short: "h" },
        },
      });
    } catch (error) {
      const known = [...Object.keys(command.options), "json", "url", "help"].map((name) => `--${name}`);
      throw optionError(error, ["signetctl", noun.name, command.verb].filter(Boolean).join(" "), known);
    }
    const positionals = parsed.positionals;
    if (positionals.length < command.args.length) {
      throw usageError(`missing <${command.args[positionals.length]}>; usage: ${usageLine(noun, command)}`);
    }
    if (positionals.length > command.args.length) {
      throw usageError(
        `unexpected argument "${positionals[command.args.length]}"; usage: ${usageLine(noun, command)}`,
      );
    }
    const urlFlag = parsed.values.url as string | undefined;
    const client = new AdminClient({
      url: urlFlag ?? process.env.SIGNET_REGISTRY_URL ?? DEFAULT_REGISTRY_URL,
      urlFrom:
        urlFlag !== undefined
          ? "--url"
          : process.env.SIGNET_REGISTRY_URL
            ? "SIGNET_REGISTRY_URL"
            : "the default",
      token: process.env.SIGNET_ADMIN_TOKEN?.trim() || undefined,
    });
    await command.run(
      { client, output, readSecret },
      positionals,
      parsed.values as Record<string, string | boolean | string[] | undefined>,
    );
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    if (wantsJson) {
      output.err(
        JSON.stringify({
          error: error.code ?? errorName(error.exitCode),
          message: error.message,
          exit_code: error.exitCode,
        }),
      );
    } else {
      output.err(`signetctl: ${error.message}`);
      if (error.exitCode === EXIT.usage) output.err("Run `signetctl --help` for usage.");
    }
    return error.exitCode;
  }
}

function errorName(exitCode: number): string {
  return Object.entries(EXIT).find(([, code]) => code === exitCode)?.[0] ?? "error";
}
