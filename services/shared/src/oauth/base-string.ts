// The signature base string (RFC 5849 §3.4.1).

import { canonicalizeFormComponent, percentEncode } from "./encoding.js";
import { OAuthError } from "./types.js";

/** A parameter already in its §3.6-encoded form: [encodedName, encodedValue]. */
export type EncodedParam = [string, string];

export interface SplitUrl {
  /** The base string URI (§3.4.1.2): scheme and host lower-cased, default port dropped, no query. */
  baseUri: string;
  /** The raw query (without "?"), or "" when there is none. */
  query: string;
}

function badUrl(message: string): OAuthError {
  return new OAuthError("parameter_rejected", `request URL: ${message}`, 400);
}

/**
 * Splits an absolute URL into its §3.4.1.2 base string URI and its raw query. The path is
 * kept exactly as sent (an empty path becomes "/"); the fragment is dropped. Throws
 * OAuthError(parameter_rejected, 400) when the URL is not absolute http(s).
 */
export function splitUrl(url: string): SplitUrl {
  const schemeEnd = url.indexOf("://");
  if (schemeEnd <= 0) throw badUrl("not absolute");
  const scheme = url.slice(0, schemeEnd).toLowerCase();
  let defaultPort: string;
  if (scheme === "http") defaultPort = "80";
  else if (scheme === "https") defaultPort = "443";
  else throw badUrl("scheme must be http or https");
  const authStart = schemeEnd + 3;
  const n = url.length;
  let i = authStart;
  while (i < n) {
    const c = url.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23) break; // / ? #
    i++;
  }
  let authority = url.slice(authStart, i).toLowerCase();
  const at = authority.lastIndexOf("@");
  if (at >= 0) authority = authority.slice(at + 1); // userinfo is not part of the base URI
  if (authority.length === 0) throw badUrl("no host");
  // port: after the last ':' that follows any IPv6 literal
  const colon = authority.lastIndexOf(":");
  if (colon >= 0 && colon > authority.lastIndexOf("]")) {
    const port = authority.slice(colon + 1);
    if (port === "" || port === defaultPort) authority = authority.slice(0, colon);
  }
  const pathStart = i;
  while (i < n) {
    const c = url.charCodeAt(i);
    if (c === 0x3f || c === 0x23) break;
    i++;
  }
  const path = i > pathStart ? url.slice(pathStart, i) : "/";
  let query = "";
  if (i < n && url.charCodeAt(i) === 0x3f) {
    const hash = url.indexOf("#", i + 1);
    query = url.slice(i + 1, hash < 0 ? n : hash);
  }
  return { baseUri: `${scheme}://${authority}${path}`, query };
}

/** The §3.4.1.2 base string URI of an absolute URL. */
export function baseStringUri(url: string): string {
  return splitUrl(url).baseUri;
}

/**
 * Parses application/x-www-form-urlencoded text (a query, or a latin1 view of a body's
 * octets when `bytes` is true) into §3.6-encoded pairs, appended to `out`. Empty segments
 * are skipped; a segment without "=" has the empty value (as RFC 5849's `c2` example).
 */
export function collectFormParams(text: string, out: EncodedParam[], bytes = false): EncodedParam[] {
  const n = text.length;
  let start = 0;
  while (start <= n) {
    let end = text.indexOf("&", start);
    if (end < 0) end = n;
    if (end > start) {
      const eq = text.indexOf("=", start);
      if (eq >= 0 && eq < end) {
        out.push([
          canonicalizeFormComponent(text, start, eq, bytes),
          canonicalizeFormComponent(text, eq + 1, end, bytes),
        ]);
      } else {
        out.push([canonicalizeFormComponent(text, start, end, bytes), ""]);
      }
    }
    start = end + 1;
  }
  return out;
}

/** Whether a Content-Type names application/x-www-form-urlencoded (parameters ignored). */
export function isFormContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(";");
  const essence = (semi < 0 ? contentType : contentType.slice(0, semi)).trim();
  return essence.length === 33 && essence.toLowerCase() === "application/x-www-form-urlencoded";
}

function compareParams(a: EncodedParam, b: EncodedParam): number {
  // encoded strings are ASCII, so code-unit order is octet order (§3.4.1.3.2)
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

/** §3.4.1.3.2: sorts encoded pairs by name then value (in place) and joins them. */
export function normalizeParameters(params: EncodedParam[]): string {
  params.sort(compareParams);
  let s = "";
  for (let k = 0; k < params.length; k++) {
    const p = params[k] as EncodedParam;
    s += (k === 0 ? "" : "&") + p[0] + "=" + p[1];
  }
  return s;
}

/** Second encoding of an already §3.6-encoded string: only "%" needs escaping. */
function reencode(encoded: string): string {
  return encoded.indexOf("%") < 0 ? encoded : encoded.replaceAll("%", "%25");
}

/**
 * METHOD & enc(base URI) & enc(normalized parameters). Sorts `params` in place. The
 * parameters are already encoded (unreserved characters and %XX only), so encoding the
 * normalized string again only turns "%" into "%25", "=" into "%3D" and "&" into "%26":
 * done directly, without building the intermediate string.
 */
export function assembleBaseString(method: string, baseUri: string, params: EncodedParam[]): string {
  params.sort(compareParams);
  let s = `${method.toUpperCase()}&${percentEncode(baseUri)}&`;
  for (let k = 0; k < params.length; k++) {
    const p = params[k] as EncodedParam;
    s += (k === 0 ? "" : "%26") + reencode(p[0]) + "%3D" + reencode(p[1]);
  }
  return s;
}

export interface BaseStringInput {
  method: string;
  /** Absolute URL including the query. */
  url: string;
  /** The oauth_* protocol parameters (decoded); realm and oauth_signature are left out. */
  oauthParams: Record<string, string | number>;
  body?: string | Uint8Array | undefined;
  contentType?: string | undefined;
}

/** Collects every §3.4.1.3 parameter of a request, §3.6-encoded. */
export function collectParameters(input: BaseStringInput): { baseUri: string; params: EncodedParam[] } {
  const { baseUri, query } = splitUrl(input.url);
  const params: EncodedParam[] = [];
  if (query) collectFormParams(query, params);
  if (input.body !== undefined && input.body.length > 0 && isFormContentType(input.contentType)) {
    if (typeof input.body === "string") collectFormParams(input.body, params);
    else
      collectFormParams(
        Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength).toString("latin1"),
        params,
        true,
      );
  }
  for (const name of Object.keys(input.oauthParams)) {
    if (name === "oauth_signature" || name === "realm") continue;
    params.push([percentEncode(name), percentEncode(String(input.oauthParams[name]))]);
  }
  return { baseUri, params };
}

/** The signature base string of a request (§3.4.1). */
export function signatureBaseString(input: BaseStringInput): string {
  const { baseUri, params } = collectParameters(input);
  return assembleBaseString(input.method, baseUri, params);
}

/**
 * The absolute URL a client signed. With `publicUrl` (SIGNET_PUBLIC_URL,
 * scheme://host[:port]) that origin is used; otherwise the request's protocol and Host
 * as seen by a proxy-aware server (Fastify with trustProxy). `url` is the request target
 * (path and query) as received.
 */
export function baseUrlFor(input: {
  publicUrl?: string | undefined;
  protocol: string;
  host: string;
  url: string;
}): string {
  const target = input.url.startsWith("/") ? input.url : "/" + input.url;
  if (input.publicUrl) {
    const origin = input.publicUrl.endsWith("/") ? input.publicUrl.slice(0, -1) : input.publicUrl;
    return origin + target;
  }
  const protocol = input.protocol.endsWith(":") ? input.protocol.slice(0, -1) : input.protocol;
  return `${protocol}://${input.host}${target}`;
}
