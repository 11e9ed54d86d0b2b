// Verifying incoming signed requests (RFC 5849 §3.2), the hot path of every data route.
//
// Order of checks (the first failure wins):
//   1. header present (else 401 parameter_absent) and well-formed (else 400 parameter_rejected)
//   2. oauth_consumer_key, oauth_signature_method, oauth_signature, oauth_timestamp,
//      oauth_nonce present and non-empty; oauth_token non-empty when requireToken
//      (else 401 parameter_absent); oauth_token non-empty when !requireToken → 401
//      parameter_rejected (a consumer-only route refuses a token)
//   3. oauth_version, where present, "1.0" (version_rejected)
//   4. oauth_signature_method HMAC-SHA256 or HMAC-SHA1 (signature_method_rejected)
//   5. oauth_timestamp a decimal integer within ±timestampWindow (timestamp_refused)
//   6. at most MAX_PARAMETERS query and form parameters, none of them oauth_* (400
//      parameter_rejected); the request URL and form body are parsed here (malformed →
//      400 parameter_rejected)
//   7. consumer lookup: unknown (null), or known with the state it is in
//   8. token lookup when requireToken and the consumer is known: unknown (null), or known
//      with its state
//   9. body hash: a non-form body needs oauth_body_hash equal to the SHA of its octets; no
//      body → an oauth_body_hash, if sent, must be the hash of the empty string; a form
//      body is signed through the base string and must NOT carry oauth_body_hash
//      (400 parameter_rejected) — all other mismatches are 401 body_hash_invalid
//  10. signature, constant-time, against each of the consumer's secrets and the token's
//      secret — an unknown consumer or token is checked against a random secret nobody
//      holds, with the same HMAC work (signature_invalid)
//  11. only now the state: consumer_key_unknown / consumer_key_rejected, token_rejected /
//      token_revoked / token_expired. A request that is not signed with the secrets learns
//      nothing of a key's or token's existence or state: it gets signature_invalid alike.
//  12. nonce store (false → nonce_used), only after all of that held, so unsigned junk
//      cannot burn nonces.
//
// Any malformed input ends in OAuthError. Errors thrown by the injected stores that are
// not OAuthError (a database outage) propagate unchanged: they are not bad input, and the
// caller should answer 503 rather than guess. An OAuthError a store throws instead of
// answering a state is taken as a refusal whose secret is unknown: signature_invalid.

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { MAX_PARAMETERS } from "../rules.js";
import {
  assembleBaseString,
  collectFormParams,
  isFormContentType,
  splitUrl,
  type EncodedParam,
} from "./base-string.js";
import { percentEncode } from "./encoding.js";
import { parseAuthorizationHeader } from "./header.js";
import { countParameters } from "./parameters.js";
import { bodyHash, HASH_OF } from "./sign.js";
import {
  OAuthError,
  type ConsumerLookup,
  type CredentialStore,
  type IncomingRequest,
  type NonceStore,
  type SignatureMethod,
  type TokenLookup,
  type VerifiedRequest,
  type VerifyOptions,
} from "./types.js";

export interface VerifierConfig<C, T> extends VerifyOptions {
  credentials: CredentialStore<C, T>;
  nonces: NonceStore;
}

export type Verifier<C, T> = (req: IncomingRequest) => Promise<VerifiedRequest<C, T>>;

const EMPTY_BODY_HASH: Readonly<Record<SignatureMethod, string>> = {
  "HMAC-SHA256": bodyHash("HMAC-SHA256", ""),
  "HMAC-SHA1": bodyHash("HMAC-SHA1", ""),
};

const REQUIRED = [
  "oauth_consumer_key",
  "oauth_signature_method",
  "oauth_signature",
  "oauth_timestamp",
  "oauth_nonce",
] as const;

/** Longest accepted oauth_nonce: every nonce is stored in the shared replay table. */
const MAX_NONCE_LENGTH = 128;

/** Longest accepted oauth_timestamp, in digits (10 digits last until the year 2286). */
const MAX_TIMESTAMP_DIGITS = 12;

/**
 * What an unknown consumer or token is checked against: random per process, so no request
 * can be signed with it; the answer is signature_invalid, after the HMAC work a known one
 * takes (same algorithm, a key of the same length as real secrets).
 */
const UNKNOWN_CONSUMER_SECRETS = [randomBytes(32).toString("base64url")];
const UNKNOWN_TOKEN_SECRET = randomBytes(32).toString("base64url");

type State = NonNullable<ConsumerLookup<unknown>["refused"] | TokenLookup<unknown>["refused"]>;
const STATE_MESSAGES: Record<State | "consumer_key_unknown", string> = {
  consumer_key_unknown: "unknown consumer key",
  consumer_key_rejected: "this consumer has been revoked",
  token_rejected: "unknown token",
  token_revoked: "this token has been revoked",
  token_expired: "this token has expired",
};

function fail(problem: OAuthError["problem"], message: string, status: 400 | 401 = 401): never {
  throw new OAuthError(problem, message, status);
}

function parseTimestamp(s: string): number {
  const n = s.length;
  if (n === 0 || n > MAX_TIMESTAMP_DIGITS) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

function hasOAuthParam(params: EncodedParam[], from: number): boolean {
  for (let k = from; k < params.length; k++) {
    if ((params[k] as EncodedParam)[0].startsWith("oauth_")) return true;
  }
  return false;
}

/** Constant-time comparison of two ASCII strings (base64 signatures). */
function safeEqualAscii(a: string, b: string): boolean {
  const ab = Buffer.from(a, "latin1");
  const bb = Buffer.from(b, "latin1");
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab); // same work either way; the lengths themselves are public
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/** Whether a store answered with a promise (or any thenable) rather than the answer itself. */
function isThenable<V>(value: V | PromiseLike<V>): value is PromiseLike<V> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** A store's failure: an OAuthError is a refusal whose secret is not known (null); anything else propagates. */
function unknownIfRefused(error: unknown): null {
  if (error instanceof OAuthError) return null;
  throw error;
}

/**
 * Builds the request verifier. `verify(req)` resolves to the verified consumer and token,
 * or rejects with OAuthError (see the order of checks above).
 */
export function createVerifier<C, T>(config: VerifierConfig<C, T>): Verifier<C, T> {
  const { credentials, nonces, requireToken } = config;
  const windowSeconds = config.timestampWindow;
  const now = config.now ?? (() => Math.floor(Date.now() / 1000));
  if (!(windowSeconds >= 0)) throw new TypeError("timestampWindow must be a non-negative number");

  return async function verify(req: IncomingRequest): Promise<VerifiedRequest<C, T>> {
    // 1. header
    const authorization = req.authorization;
    if (authorization === undefined || authorization === null || authorization === "") {
      fail("parameter_absent", "missing Authorization header");
    }
    const { params: oauthParams, names } = parseAuthorizationHeader(authorization);

    // 2. required parameters
    for (const name of REQUIRED) {
      if (!oauthParams[name]) fail("parameter_absent", `missing ${name}`);
    }
    const tokenKey = oauthParams.oauth_token;
    if (requireToken) {
      if (!tokenKey) fail("parameter_absent", "missing oauth_token");
    } else if (tokenKey) {
      fail(
        "parameter_rejected",
        "this route is signed with consumer credentials only; oauth_token must be absent or empty",
      );
    }

    if ((oauthParams.oauth_nonce as string).length > MAX_NONCE_LENGTH) {
      fail("parameter_rejected", `oauth_nonce longer than ${MAX_NONCE_LENGTH} characters`, 400);
    }

    // 3. version
    const version = oauthParams.oauth_version;
    if (version !== undefined && version !== "1.0") fail("version_rejected", "oauth_version must be 1.0");

    // 4. signature method
    const method = oauthParams.oauth_signature_method as string;
    if (method !== "HMAC-SHA256" && method !== "HMAC-SHA1") {
      fail("signature_method_rejected", "signature method must be HMAC-SHA256 or HMAC-SHA1");
    }
    const signatureMethod: SignatureMethod = method;

    // 5. timestamp
    const timestamp = parseTimestamp(oauthParams.oauth_timestamp as string);
    if (timestamp < 0) fail("timestamp_refused", "oauth_timestamp must be a positive integer");
    const clock = now();
    if (timestamp < clock - windowSeconds || timestamp > clock + windowSeconds) {
      fail("timestamp_refused", "oauth_timestamp outside the accepted window");
    }

    // 6. request parameters (query + form body): counted before they are parsed; no oauth_*
    if (typeof req.url !== "string" || typeof req.method !== "string" || req.method.length === 0) {
      fail("parameter_rejected", "request method or URL missing", 400);
    }
    const { baseUri, query } = splitUrl(req.url);
    const body = req.body;
    const hasBody = body !== undefined && body !== null && body.length > 0;
    const isForm = hasBody && isFormContentType(req.contentType);
    const form = isForm ? body.toString("latin1") : "";
    if (countParameters(query) + countParameters(form) > MAX_PARAMETERS) {
      fail("parameter_rejected", `more than ${MAX_PARAMETERS} query and form parameters`, 400);
    }
    const params: EncodedParam[] = [];
    if (query.length > 0) collectFormParams(query, params);
    if (isForm) collectFormParams(form, params, true);
    if (params.length > 0 && hasOAuthParam(params, 0)) {
      fail("parameter_rejected", "protocol parameters belong in the Authorization header only", 400);
    }

    // 7. consumer, 8. token: their states are told only once the signature held (11)
    const consumerKey = oauthParams.oauth_consumer_key as string;
    // (an answer the store has at hand comes without a promise: no await, no microtask)
    let consumer: ConsumerLookup<C> | null;
    try {
      const found = credentials.consumer(consumerKey);
      consumer = (isThenable(found) ? await found : found) ?? null;
    } catch (error) {
      consumer = unknownIfRefused(error);
    }
    let token: TokenLookup<T> | null = null;
    if (requireToken && consumer !== null) {
      try {
        const found = credentials.token(tokenKey as string, consumer.record);
        token = (isThenable(found) ? await found : found) ?? null;
      } catch (error) {
        token = unknownIfRefused(error);
      }
    }

    // 9. body hash
    const sentBodyHash = oauthParams.oauth_body_hash;
    if (isForm) {
      if (sentBodyHash !== undefined) {
        fail(
          "parameter_rejected",
          "form bodies are signed through the base string; oauth_body_hash is not allowed",
          400,
        );
      }
    } else if (hasBody) {
      if (sentBodyHash === undefined) fail("body_hash_invalid", "a request body requires oauth_body_hash");
      if (sentBodyHash !== bodyHash(signatureMethod, body))
        fail("body_hash_invalid", "oauth_body_hash does not match the body");
    } else if (sentBodyHash !== undefined && sentBodyHash !== EMPTY_BODY_HASH[signatureMethod]) {
      fail("body_hash_invalid", "oauth_body_hash does not match the empty body");
    }

    // 10. signature
    for (let k = 0; k < names.length; k++) {
      const name = names[k] as string;
      if (name !== "oauth_signature") params.push([name, percentEncode(oauthParams[name] as string)]);
    }
    const baseString = assembleBaseString(req.method, baseUri, params);
    const signature = oauthParams.oauth_signature as string;
    const alg = HASH_OF[signatureMethod];
    const tokenSecret = !requireToken ? "" : token !== null ? token.secret : UNKNOWN_TOKEN_SECRET;
    const encodedTokenSecret = percentEncode(tokenSecret);
    const secrets = consumer !== null ? consumer.secrets : UNKNOWN_CONSUMER_SECRETS;
    let matched = -1;
    for (let k = 0; k < secrets.length; k++) {
      const expected = createHmac(alg, percentEncode(secrets[k] as string) + "&" + encodedTokenSecret)
        .update(baseString)
        .digest("base64");
      // keep comparing after a match so the time does not tell which secret matched
      if (safeEqualAscii(expected, signature)) matched = k;
    }
    if (matched < 0) fail("signature_invalid", "signature does not match");

    // 11. the state, for a request signed with the secrets
    if (consumer === null) fail("consumer_key_unknown", STATE_MESSAGES.consumer_key_unknown);
    if (consumer.refused) fail(consumer.refused, consumer.message ?? STATE_MESSAGES[consumer.refused]);
    if (requireToken) {
      if (token === null) fail("token_rejected", STATE_MESSAGES.token_rejected);
      if (token.refused) fail(token.refused, STATE_MESSAGES[token.refused]);
    }

    // 12. replay guard
    const nonce = oauthParams.oauth_nonce as string;
    if (!(await nonces.use(consumerKey, tokenKey ?? "", nonce, timestamp))) {
      fail("nonce_used", "nonce already used");
    }

    return {
      consumer: consumer.record,
      consumerKey,
      token: token?.record ?? null,
      tokenKey: requireToken ? (tokenKey as string) : null,
      signatureMethod,
      consumerSecretIndex: matched,
      // the parser's own object, made for this request and kept nowhere else: no copy
      oauthParams,
    };
  };
}
