// Signing outgoing requests: an `Authorization: OAuth …` header (RFC 5849 §3.1–3.5, with
// the OAuth Body Hash extension for non-form bodies).
//
// Built from the same parts the verifier uses (base-string.ts, encoding.ts), so what is
// signed here is what verify.ts rebuilds: the §3.4.1 base string (parameter names decoded
// before they are re-encoded, repeated names kept, "+" in a form body read as a space, the
// base URI normalised), the §3.6 percent-encoding, and a plain SHA-1/SHA-256 of the raw
// body octets as oauth_body_hash. (The oauth-1.0a package, which this file used to wrap,
// gets the first three wrong for RFC 5849 and builds an instance per request: the signing
// cost of every signed test request and of the benchmarks' load generator.)

import { createHash, createHmac, randomFillSync } from "node:crypto";
import { assembleBaseString, collectParameters, isFormContentType } from "./base-string.js";
import { percentEncode } from "./encoding.js";
import { formatAuthorizationHeader } from "./header.js";
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

  // the protocol parameters, in the order they were always listed (the header sorts them)
  const oauthParams: Record<string, string> = {
    oauth_consumer_key: options.consumer.key,
    oauth_nonce: options.nonce ?? randomNonce(),
    oauth_signature_method: signatureMethod,
    oauth_timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
  };
  if (includeVersion) oauthParams.oauth_version = "1.0";
  if (options.token) oauthParams.oauth_token = options.token.key;
  // a plain hash of the body octets (a form body is signed through the base string instead)
  if (bodyOctets !== undefined) oauthParams.oauth_body_hash = bodyHash(signatureMethod, bodyOctets);

  const { baseUri, params } = collectParameters({
    method: options.method,
    url: options.url,
    oauthParams,
    body: isForm ? body : undefined,
    contentType: options.contentType,
  });
  const baseString = assembleBaseString(options.method, baseUri, params);
  // §3.4.2: the encoded consumer secret and token secret, joined by "&" even without a token
  const key = `${percentEncode(options.consumer.secret)}&${percentEncode(options.token?.secret ?? "")}`;
  oauthParams.oauth_signature = createHmac(alg, key).update(baseString).digest("base64");
  const names = Object.keys(oauthParams).sort();
  const authorization = formatAuthorizationHeader(
    names.map((name): [string, string] => [name, oauthParams[name] as string]),
  );
  return { authorization, oauthParams, baseString };
}

/** Signs a request and returns the `Authorization` header value (`OAuth …`). */
export function signRequest(options: SignRequestOptions): string {
  return signRequestDetailed(options).authorization;
}
