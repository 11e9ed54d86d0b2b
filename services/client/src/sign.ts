// OAuth 1.0a (RFC 5849) request signing, as a Signet data service verifies it: HMAC-SHA256
// (or HMAC-SHA1) over the method, the base string URI and every parameter (query, form body,
// oauth_*), plus `oauth_body_hash` (a plain SHA of the raw bytes) for any body that is not a
// form. Self-contained on purpose (node:crypto only): this package is published on its own.

import { createHash, createHmac, randomBytes } from "node:crypto";

export type SignatureMethod = "HMAC-SHA256" | "HMAC-SHA1";

/** A key and its secret: a consumer's, or a user's token's. */
export interface Credentials {
  key: string;
  secret: string;
}

const HASH: Readonly<Record<SignatureMethod, "sha256" | "sha1">> = {
  "HMAC-SHA256": "sha256",
  "HMAC-SHA1": "sha1",
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const UNRESERVED_ONLY = /^[A-Za-z0-9\-._~]*$/;

/** RFC 5849 §3.6: UTF-8 octets; only ALPHA, DIGIT, "-", ".", "_", "~" stay as they are. */
export function percentEncode(value: string): string {
  // keys, nonces, timestamps, most paths' segments: nothing to encode, nothing to allocate
  if (UNRESERVED_ONLY.test(value)) return value;
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    // a lone surrogate: encoded as U+FFFD, as Buffer.from(value, "utf8") and the server do
    encoded = encodeURIComponent(value.replace(LONE_SURROGATE, "\uFFFD"));
  }
  return encoded.replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * One name or value of form-urlencoded text (a query, a form body) in its §3.6 form,
 * without decoding it first: "+" is a space, an escape is normalised (upper-case hex, an
 * unreserved octet unescaped), any other character is encoded. `bytes`: the text is a
 * latin1 view of raw octets.
 */
function canonicalComponent(text: string, bytes: boolean): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    let c = text[i] as string;
    if (c === "%") {
      const hex = text.slice(i + 1, i + 3);
      if (!HEX.test(hex)) throw new TypeError("malformed percent-escape in a query or form parameter");
      const char = String.fromCharCode(parseInt(hex, 16));
      out += UNRESERVED.test(char) ? char : "%" + hex.toUpperCase();
      i += 2;
    } else if (c === "+") {
      out += "%20";
    } else if (bytes && c.charCodeAt(0) > 0x7f) {
      out += "%" + c.charCodeAt(0).toString(16).toUpperCase();
    } else {
      if ((text.codePointAt(i) as number) > 0xffff) {
        c = text.slice(i, i + 2); // a surrogate pair is one character
        i++;
      }
      out += percentEncode(c);
    }
  }
  return out;
}

/** Adds the pairs of form-urlencoded text to `out`, each already §3.6-encoded. */
function collectForm(text: string, out: [string, string][], bytes = false): void {
  for (const segment of text.split("&")) {
    if (segment === "") continue;
    const eq = segment.indexOf("=");
    const name = eq < 0 ? segment : segment.slice(0, eq);
    const value = eq < 0 ? "" : segment.slice(eq + 1);
    out.push([canonicalComponent(name, bytes), canonicalComponent(value, bytes)]);
  }
}

/** Whether a Content-Type is application/x-www-form-urlencoded (parameters ignored). */
export function isFormContentType(contentType: string | undefined | null): boolean {
  if (!contentType) return false;
  return contentType.split(";")[0]!.trim().toLowerCase() === "application/x-www-form-urlencoded";
}

/** base64 of the plain SHA-256 (HMAC-SHA256) or SHA-1 (HMAC-SHA1) of the body's bytes. */
export function bodyHash(signatureMethod: SignatureMethod, body: string | Uint8Array): string {
  return createHash(HASH[signatureMethod]).update(body).digest("base64");
}

/** 32 characters from the CSPRNG (base64url: unreserved characters only). */
export function randomNonce(): string {
  return randomBytes(24).toString("base64url");
}

export interface SignOptions {
  method: string;
  /** The absolute URL the request goes to, query included. */
  url: string | URL;
  consumer: Credentials;
  /** A user's token, for routes that act for a user; absent on consumer-only routes. */
  token?: Credentials | null | undefined;
  /** Default HMAC-SHA256. */
  signatureMethod?: SignatureMethod;
  /** The raw body. A form body is signed through the base string, any other through oauth_body_hash. */
  body?: string | Uint8Array | undefined;
  contentType?: string | undefined;
  /**
   * The scheme://host[:port] to sign for when it differs from where the request goes:
   * the data service's SIGNET_PUBLIC_URL (see README.md, "The base URL rule").
   */
  publicUrl?: string | undefined;
  /** Default: randomNonce(). */
  nonce?: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
}

export interface Signature {
  /** The Authorization header value (`OAuth oauth_consumer_key="…", …`). */
  authorization: string;
  /** The signature base string (for debugging a signature_invalid). */
  baseString: string;
}

/** The base string URI (§3.4.1.2): lower-case scheme and host, no default port, no query. */
function baseUri(url: URL, publicUrl: string | undefined): string {
  const origin = publicUrl ? new URL(publicUrl) : url;
  return `${origin.protocol}//${origin.host}${url.pathname}`;
}

/** Signs one request: the Authorization header to send with it. */
export function sign(options: SignOptions): Signature {
  const signatureMethod = options.signatureMethod ?? "HMAC-SHA256";
  const alg = HASH[signatureMethod];
  if (!alg) throw new TypeError(`unsupported signature method ${String(signatureMethod)}`);
  const url = new URL(options.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError("the URL must be http(s)");
  const { body } = options;
  const hasBody = body !== undefined && body.length > 0;
  const isForm = hasBody && isFormContentType(options.contentType);

  const oauth: Record<string, string> = {
    oauth_consumer_key: options.consumer.key,
    oauth_nonce: options.nonce ?? randomNonce(),
    oauth_signature_method: signatureMethod,
    oauth_timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    oauth_version: "1.0",
  };
  if (options.token) oauth.oauth_token = options.token.key;
  if (hasBody && !isForm) oauth.oauth_body_hash = bodyHash(signatureMethod, body);

  const params: [string, string][] = [];
  collectForm(url.search.slice(1), params);
  if (isForm) {
    if (typeof body === "string") collectForm(body, params);
    else
      collectForm(
        Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1"),
        params,
        true,
      );
  }
  // the oauth_* names are unreserved characters: nothing to encode
  for (const name in oauth) params.push([name, percentEncode(oauth[name]!)]);
  params.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const paramString = params.map(([k, v]) => `${k}=${v}`).join("&");
  const baseString = [
    options.method.toUpperCase(),
    percentEncode(baseUri(url, options.publicUrl)),
    percentEncode(paramString),
  ].join("&");

  const key = `${percentEncode(options.consumer.secret)}&${percentEncode(options.token?.secret ?? "")}`;
  oauth.oauth_signature = createHmac(alg, key).update(baseString).digest("base64");
  const authorization =
    "OAuth " +
    Object.keys(oauth)
      .sort()
      .map((name) => `${name}="${percentEncode(oauth[name]!)}"`)
      .join(", ");
  return { authorization, baseString };
}
