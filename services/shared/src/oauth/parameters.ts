// Form-urlencoded parameter lists — a query string, a form body: the parameters RFC 5849
// signs besides the header's. The rules the data and registry APIs hold them to before
// anything decodes them in full, sorts them or reads a field (docs/api.md, "Limits"):
//  * at most MAX_PARAMETERS in a request (query and form body together): counting the
//    segments is all the work a longer list gets;
//  * every name once, across the query and the body: the base string sorts by name, then
//    value, so two values of one name can be swapped without breaking the signature while
//    a handler reads one of them — refused rather than resolved;
//  * no control character (rules.ts, CONTROL_CHARACTERS) in a name, nor, in a query (never
//    a secret, never multi-line), in a value; a body's values are the route schema's to judge.
// The verifier (verify.ts) holds the signed list to the same count.
import { CONTROL_CHARACTER_RE, MAX_PARAMETERS } from "../rules.js";

/** How many parameters form-urlencoded text holds: its non-empty "&"-separated segments. */
export function countParameters(text: string): number {
  let count = 0;
  let start = 0;
  for (;;) {
    const end = text.indexOf("&", start);
    if ((end < 0 ? text.length : end) > start) count++;
    if (end < 0) return count;
    start = end + 1;
  }
}

export interface ParameterRules {
  /** The most parameters `text` may hold (default MAX_PARAMETERS; less when a query used some). */
  max?: number;
  /** Whether values, not only names, must be free of control characters (a query's). */
  checkValues?: boolean;
  /** Whether a name is already used elsewhere in the request (the query, for a form body). */
  taken?: (name: string) => boolean;
}

export type ParsedParameters =
  { fields: Record<string, string>; refused?: undefined } | { fields?: undefined; refused: string };

/** A name as an error message may quote it: at most 40 characters. */
const quoted = (name: string) => JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);

/**
 * Decodes form-urlencoded `text` (a query without its "?", or a body as UTF-8) into a
 * null-prototype record of its fields, or says why the request is refused: too many
 * parameters (counted before any decoding), a repeated name, a control character.
 */
export function parseParameters(text: string, rules: ParameterRules = {}): ParsedParameters {
  const max = rules.max ?? MAX_PARAMETERS;
  if (countParameters(text) > max) {
    return { refused: `more than ${MAX_PARAMETERS} query and form parameters` };
  }
  const fields = Object.create(null) as Record<string, string>;
  for (const [name, value] of new URLSearchParams(text)) {
    if (CONTROL_CHARACTER_RE.test(name) || (rules.checkValues && CONTROL_CHARACTER_RE.test(value))) {
      return { refused: "a parameter holds a control character" };
    }
    if (name in fields || rules.taken?.(name)) {
      return { refused: `the parameter ${quoted(name)} is sent more than once` };
    }
    fields[name] = value;
  }
  return { fields };
}
