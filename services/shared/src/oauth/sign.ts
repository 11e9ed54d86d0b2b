// Signing outgoing requests: an `Authorization: OAuth …` header.
//
// Built on the `oauth-1.0a` package (nonce/timestamp plumbing, signing key, HMAC dispatch,
// body-hash plumbing and header formatting), with three parts replaced because the package
// gets them wrong for RFC 5849 (the percent-encoding too: ours, from encoding.ts, is the
// §3.6 one and is what the verifier uses):
//  * the signature base string. oauth-1.0a's parameter string does not decode parameter
//    names before re-encoding them (`c%40` becomes `c%2540`), drops a repeated name whose
//    first value is empty (`a=&a=1`), lets a query parameter overwrite a form parameter of
//    the same name, does not read "+" as a space in form bodies, throws URIError on a
//    malformed escape, and does not normalise the base URI (host case, default port).
//    We install our §3.4.1 builder as the instance's getBaseString.
//  * the body hash. Its default body_hash_function is an HMAC with the signing key; the
//    OAuth Body Hash specification wants a plain SHA-1/SHA-256 of the raw body octets.

import { createHash, createHmac, randomFillSync } from "node:crypto";
import OAuth from "oauth-1.0a";
import { collectParameters, assembleBaseString, isFormContentType } from "./base-string.js";
import { percentEncode } from "./encoding.js";
import type { ClientCredentials, SignatureMethod } from "./types.js";

export const HASH_OF: Readonly<Record<SignatureMethod, "sha256" | "sha1">> = {
  "HMAC-SHA256": "sha256",
  "HMAC-SHA1": "sha1",
};

/** base64 of the plain SHA (SHA-256 for HMAC-SHA256, SHA-1 for HMAC-SHA1) of the body octets. */
export function bodyHash(signatureMethod: SignatureMethod, body: string | Uint8Array): string {
  return createHash(HASH_OF[signatureMethod]).update(body).digest("base64");
}

export interface SignRequestOptions {
  method: string;
  /** Absolute URL including the query. */
  url: string;
  consumer: ClientCredentials;
  token?: ClientCredentials | null | undefined;
  /** Default HMAC-SHA256. */
  signatureMethod?: SignatureMethod;
  /** Raw body; a form body (contentType application/x-www-form-urlencoded) is signed through the base string, any other through oauth_body_hash. */
  body?: string | Uint8Array | undefined;
  contentType?: string | undefined;
  /** Default: 32 random characters. */
  nonce?: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** Send oauth_version="1.0" (default true; RFC 5849 makes it optional). */
  includeVersion?: boolean;
}

export interface SignedRequest {
  /** The Authorization header value. */
  authorization: string;
  /** The protocol parameters sent, oauth_signature included. */
  oauthParams: Record<string, string>;
  baseString: string;
}

const NONCE_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

const NONCE_LENGTH = 32;
/** CSPRNG output drawn 4 KiB at a time: one getrandom call per 128 nonces, not one per nonce. */
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;

/** 32 characters from a 62-letter alphabet, from the CSPRNG (oauth-1.0a uses Math.random). */
export function randomNonce(): string {
  if (randomOffset + NONCE_LENGTH > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  let s = "";
  for (let i = 0; i < NONCE_LENGTH; i++) s += NONCE_ALPHABET[(randomPool[randomOffset + i] as number) % 62];
  randomOffset += NONCE_LENGTH;
  return s;
}

/** Signs a request; returns the header value together with what went into it. */
export function signRequestDetailed(options: SignRequestOptions): SignedRequest {
  const signatureMethod = options.signatureMethod ?? "HMAC-SHA256";
  const alg = HASH_OF[signatureMethod];
  if (!alg) throw new TypeError(`unsupported signature method ${String(signatureMethod)}`);
  const body = options.body;
  const hasBody = body !== undefined && body.length > 0;
  const isForm = hasBody && isFormContentType(options.contentType);
  const includeVersion = options.includeVersion ?? true;
  const bodyOctets =
    hasBody && !isForm ? (typeof body === "string" ? Buffer.from(body, "utf8") : body) : undefined;

  const oauth = new OAuth({
    consumer: { key: options.consumer.key, secret: options.consumer.secret },
    signature_method: signatureMethod,
    hash_function: (baseString, key) => createHmac(alg, key).update(baseString).digest("base64"),
    // a plain hash of the body octets (never the package's HMAC default)
    body_hash_function: () => bodyHash(signatureMethod, bodyOctets ?? new Uint8Array(0)),
  });
  const nonce = options.nonce ?? randomNonce();
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  // RFC 5849 §3.6 encoding (the package's encodeURIComponent-based one throws on a lone surrogate)
  oauth.percentEncode = percentEncode;
  oauth.getNonce = () => nonce;
  oauth.getTimeStamp = () => timestamp;
  let baseString = "";
  oauth.getBaseString = (_request, oauthData) => {
    const protocol: Record<string, string> = {};
    for (const [k, v] of Object.entries(oauthData)) {
      if (v === undefined || (k === "oauth_version" && !includeVersion)) continue;
      protocol[k] = String(v);
    }
    const { baseUri, params } = collectParameters({
      method: options.method,
      url: options.url,
      oauthParams: protocol,
      body: isForm ? body : undefined,
      contentType: options.contentType,
    });
    baseString = assembleBaseString(options.method, baseUri, params);
    return baseString;
  };

  const data = oauth.authorize(
    { method: options.method, url: options.url, data: {}, includeBodyHash: bodyOctets !== undefined },
    options.token ? { key: options.token.key, secret: options.token.secret } : undefined,
  ) as unknown as Record<string, string | number | undefined>;
  if (!includeVersion) delete data.oauth_version;
  const oauthParams: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (v !== undefined) oauthParams[k] = String(v);
  const authorization = oauth.toHeader(data as unknown as OAuth.Authorization).Authorization;
  return { authorization, oauthParams, baseString };
}

/** Signs a request and returns the `Authorization` header value (`OAuth …`). */
export function signRequest(options: SignRequestOptions): string {
  return signRequestDetailed(options).authorization;
}
