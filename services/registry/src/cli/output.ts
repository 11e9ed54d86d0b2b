// Output for people (aligned tables, key/value blocks) and for scripts (--json).
export interface Output {
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

export function stdOutput(json: boolean): Output {
  return {
    json,
    out: (text) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
    err: (text) => void process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  };
}

export function printJson(output: Output, value: unknown): void {
  output.out(JSON.stringify(value, null, 2));
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

function clean(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "-";
  return value.replace(/[\r\n\t]+/g, " ");
}

/** "2026-11-28T17:49:51.123Z" → "2026-11-28 17:49:51Z" */
export const when = (iso: string | null | undefined) =>
  iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : null;
