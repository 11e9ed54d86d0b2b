// Output for people (aligned tables, key/value blocks) and for scripts (--json). Nothing
// signetctl writes carries a control character a terminal would act on: every one but the
// line feeds between lines is written as a visible \uXXXX escape, in both modes (in JSON a
// valid string escape; JSON.stringify itself leaves DEL, C1 and bidi controls raw).

/**
 * The characters escaped: C0 controls, DEL, C1 controls, bidi embeddings, overrides and
 * isolates. The same set as @signet/shared/rules CONTROL_CHARACTERS, which the APIs refuse
 * in names and free text (signetctl imports no @signet/*: a test holds the two together).
 */
export const CONTROL_CHARACTERS = "\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069";
const CONTROLS = new RegExp(`[${CONTROL_CHARACTERS}]`, "gu");

/** `text` with every control character as \uXXXX; line feeds too unless `keepLines`. */
export function escapeControls(text: string, keepLines = false): string {
  return text.replace(CONTROLS, (c) =>
    keepLines && c === "\n" ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export interface Output {
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

/** What is written for `text`: its control characters escaped, ending in one line feed. */
const line = (text: string) => escapeControls(text.endsWith("\n") ? text.slice(0, -1) : text, true) + "\n";

export function stdOutput(json: boolean): Output {
  return {
    json,
    out: (text) => void process.stdout.write(line(text)),
    err: (text) => void process.stderr.write(line(text)),
  };
}

/** JSON, with DEL, C1 and bidi controls written as \uXXXX too (JSON.stringify escapes only C0). */
export function printJson(output: Output, value: unknown): void {
  output.out(escapeControls(JSON.stringify(value, null, 2), true));
}

/** An aligned table: one header line, then one line per row; "-" for empty cells. */
function table(
  columns: { header: string; value: (row: never) => string | null | undefined }[],
  rows: unknown[],
): string {
  const cells = rows.map((row) =>
    columns.map((c) => clean((c.value as (r: unknown) => string | null | undefined)(row))),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}

/** A list: the whole answer with --json, else a table of `rows` (`empty` when there are none). */
export function printList<T>(
  output: Output,
  answer: unknown,
  rows: T[],
  empty: string,
  columns: { header: string; value: (row: T) => string | null | undefined }[],
): void {
  if (output.json) return printJson(output, answer);
  output.out(rows.length === 0 ? empty : table(columns, rows));
}

/** Key/value lines with aligned values. */
export function block(pairs: [string, string | null | undefined][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${clean(v)}`).join("\n");
}

/** A cell or value: "-" when empty, line breaks and tabs as one space, other controls escaped. */
function clean(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "-";
  return escapeControls(value.replace(/[\r\n\t]+/g, " "));
}

/** "2026-11-28T17:49:51.123Z" → "2026-11-28 17:49:51Z" */
export const when = (iso: string | null | undefined) =>
  iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : null;
