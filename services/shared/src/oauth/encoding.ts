// RFC 5849 §3.6 percent-encoding: UTF-8 octets, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~",
// everything else as %XX with upper-case hex digits.

import { OAuthError } from "./types.js";

/** UNRESERVED[b] is 1 when octet b may appear unencoded. */
const UNRESERVED = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  if (
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    b === 0x2d ||
    b === 0x2e ||
    b === 0x5f ||
    b === 0x7e
  ) {
    UNRESERVED[b] = 1;
  }
}

/** ENCODED[b]: the §3.6 encoding of octet b ("A" or "%2F"). */
const ENCODED: string[] = [];
for (let b = 0; b < 256; b++) {
  ENCODED.push(UNRESERVED[b] ? String.fromCharCode(b) : "%" + b.toString(16).toUpperCase().padStart(2, "0"));
}

/** HEXVAL[c] = value of hex digit c, or 255 when c is not a hex digit. */
const HEXVAL = new Uint8Array(128).fill(255);
for (let i = 0; i < 10; i++) HEXVAL[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEXVAL[0x41 + i] = 10 + i;
  HEXVAL[0x61 + i] = 10 + i;
}

/** Whether the UTF-16 code unit is an unreserved ASCII character. */
function isUnreservedCode(c: number): boolean {
  return c < 256 && UNRESERVED[c] === 1;
}

function hexAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c < 128 ? (HEXVAL[c] as number) : 255;
}

/** Appends the UTF-8 encoding of the code point starting at s[i]; returns the next index. */
function encodeCodePoint(s: string, i: number, out: string[]): number {
  let cp = s.charCodeAt(i);
  let next = i + 1;
  if (cp >= 0xd800 && cp <= 0xdbff && next < s.length) {
    const lo = s.charCodeAt(next);
    if (lo >= 0xdc00 && lo <= 0xdfff) {
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      next++;
    }
  }
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate: as Buffer.from would
  if (cp < 0x80) {
    out.push(ENCODED[cp] as string);
  } else if (cp < 0x800) {
    out.push(ENCODED[0xc0 | (cp >> 6)] as string, ENCODED[0x80 | (cp & 63)] as string);
  } else if (cp < 0x10000) {
    out.push(
      ENCODED[0xe0 | (cp >> 12)] as string,
      ENCODED[0x80 | ((cp >> 6) & 63)] as string,
      ENCODED[0x80 | (cp & 63)] as string,
    );
  } else {
    out.push(
      ENCODED[0xf0 | (cp >> 18)] as string,
      ENCODED[0x80 | ((cp >> 12) & 63)] as string,
      ENCODED[0x80 | ((cp >> 6) & 63)] as string,
      ENCODED[0x80 | (cp & 63)] as string,
    );
  }
  return next;
}

/** The characters encodeURIComponent leaves alone but §3.6 encodes. */
const SUB_DELIMS = /[!'()*]/;
const SUB_DELIMS_G = /[!'()*]/g;
const encodeSubDelim = (c: string): string => ENCODED[c.charCodeAt(0)] as string;

/**
 * RFC 5849 §3.6 percent-encoding of a string's UTF-8 octets. Never throws: a lone
 * surrogate is encoded as U+FFFD, as Buffer.from(s, "utf8") would.
 */
export function percentEncode(s: string): string {
  // most values (keys, secrets, nonces, timestamps) are unreserved throughout: nothing to encode
  const n = s.length;
  let i = 0;
  while (i < n && isUnreservedCode(s.charCodeAt(i))) i++;
  if (i === n) return s;
  let r: string;
  try {
    // native and fast; it differs from §3.6 only on ! ' ( ) * (and throws on lone surrogates)
    r = encodeURIComponent(s);
  } catch {
    return percentEncodeSlow(s);
  }
  return SUB_DELIMS.test(r) ? r.replace(SUB_DELIMS_G, encodeSubDelim) : r;
}

/** The table-driven encoder; also handles lone surrogates. */
export function percentEncodeSlow(s: string): string {
  const n = s.length;
  const out: string[] = [];
  for (let i = 0; i < n;) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      out.push(ENCODED[c] as string);
      i++;
    } else {
      i = encodeCodePoint(s, i, out);
    }
  }
  return out.join("");
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

function rejected(message: string): OAuthError {
  return new OAuthError("parameter_rejected", message, 400);
}

/**
 * Strict percent-decoding (RFC 3986): every "%" must start a two-digit hex escape and
 * the decoded octets must be valid UTF-8. "+" stays "+". Throws OAuthError
 * (parameter_rejected, 400) otherwise.
 */
export function percentDecode(s: string): string {
  const first = s.indexOf("%");
  if (first < 0) return s;
  const n = s.length;
  const bytes: number[] = [];
  let ascii = true;
  for (let i = 0; i < n;) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= n) throw rejected("truncated percent-escape");
      const h = hexAt(s, i + 1);
      const l = hexAt(s, i + 2);
      if (h === 255 || l === 255) throw rejected("invalid percent-escape");
      const b = (h << 4) | l;
      if (b >= 0x80) ascii = false;
      bytes.push(b);
      i += 3;
    } else if (c < 0x80) {
      bytes.push(c);
      i++;
    } else {
      // a literal non-ASCII character: keep its UTF-8 octets
      ascii = false;
      const enc: string[] = [];
      i = encodeCodePoint(s, i, enc);
      for (const e of enc) bytes.push(e.length === 1 ? e.charCodeAt(0) : (hexAt(e, 1) << 4) | hexAt(e, 2));
    }
  }
  if (ascii && bytes.length <= 4096) return String.fromCharCode(...bytes);
  try {
    return utf8Strict.decode(Uint8Array.from(bytes));
  } catch {
    throw rejected("percent-escapes are not valid UTF-8");
  }
}

/**
 * Decoding of one application/x-www-form-urlencoded name or value: "+" is a space, then
 * strict percent-decoding. Throws OAuthError (parameter_rejected, 400) when malformed.
 */
export function formDecode(s: string): string {
  return percentDecode(s.indexOf("+") < 0 ? s : s.replaceAll("+", " "));
}

/**
 * Re-encodes one form-urlencoded component (a name or a value) straight into its §3.6
 * form, without building the decoded string: "+" → "%20", "%xx" → the canonical
 * encoding of that octet, unreserved characters as they are, any other character as the
 * %XX of its octets. `bytes` says the string is a latin1 view of raw octets (a body);
 * otherwise characters above 0x7F are encoded as UTF-8. Throws OAuthError
 * (parameter_rejected, 400) on a malformed percent-escape.
 */
export function canonicalizeFormComponent(s: string, start: number, end: number, bytes: boolean): string {
  // fast path: all unreserved
  let i = start;
  while (i < end && isUnreservedCode(s.charCodeAt(i))) i++;
  if (i === end) return s.slice(start, end);
  const out: string[] = [s.slice(start, i)];
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= end) throw rejected("truncated percent-escape");
      const h = hexAt(s, i + 1);
      const l = hexAt(s, i + 2);
      if (h === 255 || l === 255) throw rejected("invalid percent-escape");
      out.push(ENCODED[(h << 4) | l] as string);
      i += 3;
    } else if (c === 0x2b) {
      out.push("%20");
      i++;
    } else if (c < 0x80 || (bytes && c < 256)) {
      out.push(ENCODED[c] as string);
      i++;
    } else {
      i = encodeCodePoint(s, i, out);
    }
  }
  return out.join("");
}
