// The Authorization: OAuth header (RFC 5849 §3.5.1): parsing and formatting.
//
// Parsing is a single left-to-right scan (no regular expressions). Accepted grammar:
//
//   header = OWS "OAuth" 1*SP [ param *( OWS "," OWS [ param ] ) ] OWS
//   param  = name OWS "=" OWS DQUOTE *qchar DQUOTE
//
// where the scheme is matched case-insensitively, names are token characters, values are
// percent-encoded (§3.6) and decoded strictly, and qchar is any printable ASCII character
// but DQUOTE and backslash (a §3.6-encoded value never needs a quoted-pair). Empty list
// elements (", ,") are tolerated. `realm` (any case) is ignored. Every violation — other
// scheme, unterminated quotes, control or non-ASCII characters, an unknown or duplicated
// parameter, a header longer than MAX_AUTHORIZATION_LENGTH — is an OAuthError
// (parameter_rejected, 400); nothing else is ever thrown.

import { percentDecode, percentEncode } from "./encoding.js";
import { OAuthError } from "./types.js";

/** Longest Authorization header accepted, in characters. */
export const MAX_AUTHORIZATION_LENGTH = 4096;

/** The protocol parameters the header may carry (RFC 5849 plus OAuth Body Hash). */
export const KNOWN_OAUTH_PARAMS: ReadonlySet<string> = new Set([
  "oauth_consumer_key",
  "oauth_token",
  "oauth_signature_method",
  "oauth_signature",
  "oauth_timestamp",
  "oauth_nonce",
  "oauth_version",
  "oauth_body_hash",
  "oauth_callback",
  "oauth_verifier",
]);

export interface ParsedAuthorization {
  /** Decoded oauth_* parameters in header order; null-prototype object. */
  params: Record<string, string>;
  /** Their names in header order. */
  names: string[];
  /** The realm, when one was sent (decoded as a plain quoted string). */
  realm: string | undefined;
}

/** The same names as a list, to match a header's name in place (knownNameAt). */
const KNOWN_NAMES: readonly string[] = [...KNOWN_OAUTH_PARAMS];

/**
 * The known parameter named by header[start, end) as it stands (no percent-escape), or
 * undefined: the name is then decoded and looked up the general way. Matching in place
 * spares a slice per name and keys the parameters by the constant strings.
 */
function knownNameAt(header: string, start: number, end: number): string | undefined {
  const length = end - start;
  for (let k = 0; k < KNOWN_NAMES.length; k++) {
    const name = KNOWN_NAMES[k] as string;
    if (name.length === length && header.startsWith(name, start)) return name;
  }
  return undefined;
}

/** TCHAR[c] = 1 for RFC 7230 token characters. */
const TCHAR = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;

function bad(message: string): OAuthError {
  return new OAuthError("parameter_rejected", `malformed Authorization header: ${message}`, 400);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Parses an `Authorization: OAuth …` header value. Throws OAuthError(parameter_rejected,
 * 400) for anything but a well-formed OAuth header; never throws anything else.
 */
export function parseAuthorizationHeader(header: string): ParsedAuthorization {
  if (typeof header !== "string") throw bad("not a string");
  const n = header.length;
  if (n > MAX_AUTHORIZATION_LENGTH) throw bad("too long");
  let i = 0;
  while (i < n && isOws(header.charCodeAt(i))) i++;
  // scheme "OAuth", case-insensitive
  if (
    i + 5 > n ||
    (header.charCodeAt(i) | 0x20) !== 0x6f ||
    (header.charCodeAt(i + 1) | 0x20) !== 0x61 ||
    (header.charCodeAt(i + 2) | 0x20) !== 0x75 ||
    (header.charCodeAt(i + 3) | 0x20) !== 0x74 ||
    (header.charCodeAt(i + 4) | 0x20) !== 0x68
  ) {
    throw bad("scheme is not OAuth");
  }
  i += 5;
  if (i < n && !isOws(header.charCodeAt(i))) throw bad("scheme is not OAuth");

  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  const names: string[] = [];
  let realm: string | undefined;
  let expectSeparator = false;

  for (;;) {
    while (i < n && isOws(header.charCodeAt(i))) i++;
    if (i >= n) break;
    let c = header.charCodeAt(i);
    if (c === 0x2c) {
      // list separator; empty elements are tolerated
      i++;
      expectSeparator = false;
      continue;
    }
    if (expectSeparator) throw bad("expected ','");
    // name
    const nameStart = i;
    while (i < n) {
      c = header.charCodeAt(i);
      if (c >= 128 || TCHAR[c] !== 1) break;
      i++;
    }
    if (i === nameStart) throw bad(`unexpected character at ${i}`);
    const nameEnd = i;
    while (i < n && isOws(header.charCodeAt(i))) i++;
    if (i >= n || header.charCodeAt(i) !== 0x3d) {
      throw bad(`expected '=' after ${header.slice(nameStart, Math.min(nameEnd, nameStart + 40))}`);
    }
    i++;
    while (i < n && isOws(header.charCodeAt(i))) i++;
    if (i >= n || header.charCodeAt(i) !== 0x22) throw bad("parameter values must be quoted");
    i++;
    const valueStart = i;
    for (;;) {
      if (i >= n) throw bad("unterminated quoted value");
      c = header.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20 || c > 0x7e || c === 0x5c) throw bad("invalid character in quoted value");
      i++;
    }
    const rawValue = header.slice(valueStart, i);
    i++; // closing quote
    expectSeparator = true;

    let name = knownNameAt(header, nameStart, nameEnd);
    if (name === undefined) {
      name = percentDecode(header.slice(nameStart, nameEnd));
      if (name.length === 5 && name.toLowerCase() === "realm") {
        if (realm !== undefined) throw bad("duplicate realm");
        realm = rawValue;
        continue;
      }
      if (!KNOWN_OAUTH_PARAMS.has(name)) throw bad(`unknown parameter ${JSON.stringify(name.slice(0, 40))}`);
    }
    if (params[name] !== undefined) throw bad(`duplicate parameter ${name}`);
    params[name] = percentDecode(rawValue);
    names.push(name);
  }
  return { params, names, realm };
}

/**
 * Formats an `OAuth …` header value: `OAuth realm="…", name="value", …` with names and
 * values §3.6-encoded. The realm, if given, must not contain '"' or '\\'.
 */
export function formatAuthorizationHeader(
  params: Record<string, string> | Iterable<readonly [string, string]>,
  options: { realm?: string } = {},
): string {
  const parts: string[] = [];
  if (options.realm !== undefined) {
    if (/["\\\r\n]/.test(options.realm))
      throw new TypeError("realm must not contain quotes, backslashes or newlines");
    parts.push(`realm="${options.realm}"`);
  }
  const entries = Symbol.iterator in params ? params : Object.entries(params);
  for (const [k, v] of entries as Iterable<readonly [string, string]>) {
    parts.push(`${percentEncode(k)}="${percentEncode(v)}"`);
  }
  return "OAuth " + parts.join(", ");
}
