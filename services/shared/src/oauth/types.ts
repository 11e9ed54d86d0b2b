// Shared vocabulary of the OAuth 1.0a (RFC 5849) signer and verifier.

export type SignatureMethod = "HMAC-SHA256" | "HMAC-SHA1";

/** OAuth Problem Reporting names used by Signet (docs/api.md, "OAuth errors"). */
export type OAuthProblem =
  | "parameter_absent"
  | "parameter_rejected"
  | "version_rejected"
  | "signature_method_rejected"
  | "signature_invalid"
  | "timestamp_refused"
  | "nonce_used"
  | "consumer_key_unknown"
  | "consumer_key_rejected"
  | "token_rejected"
  | "token_revoked"
  | "token_expired"
  | "body_hash_invalid";

/**
 * A refused OAuth request. `status` is 400 for requests that are malformed
 * (unparseable header, duplicated or unknown parameters) and 401 otherwise.
 */
export class OAuthError extends Error {
  readonly problem: OAuthProblem;
  readonly status: 400 | 401;
  constructor(problem: OAuthProblem, message: string, status: 400 | 401 = 401) {
    super(message);
    this.name = "OAuthError";
    this.problem = problem;
    this.status = status;
  }
}

export interface ClientCredentials {
  key: string;
  secret: string;
}

/** An incoming request as the verifier needs to see it. */
export interface IncomingRequest {
  method: string;
  /** Absolute URL the client signed: scheme://host[:port]/path?query (see baseUrlFor). */
  url: string;
  /** The raw Authorization header value, if any. */
  authorization: string | undefined;
  /** Content-Type header, if any. */
  contentType?: string | undefined;
  /** Raw body bytes as received (undefined or empty when there is no body). */
  body?: Buffer | undefined;
}

/** What the credential lookup answers for a consumer key. */
export interface ConsumerLookup<C> {
  record: C;
  /** Every currently valid secret (the new one first during a rotation's grace period). */
  secrets: string[];
  /** Set when the consumer is refused (revoked, expired): told only to a request signed with its secret. */
  refused?: "consumer_key_rejected" | undefined;
  /** The refusal's message, when it says more than "revoked" (e.g. expired). */
  message?: string | undefined;
}

/** What the credential lookup answers for an access token. */
export interface TokenLookup<T> {
  record: T;
  secret: string;
  /**
   * Set when the token is refused — revoked (or its consumer is), expired, or issued through
   * another consumer (token_rejected): told only to a request signed with its secret.
   */
  refused?: "token_rejected" | "token_revoked" | "token_expired" | undefined;
}

/**
 * Injected by the service: where consumer and token secrets come from. Return null for an
 * unknown key/token, and a refused key/token with its secret(s) and `refused` set: the
 * verifier tells the state only once the signature held (docs/api.md, "OAuth errors"). An
 * OAuthError thrown instead is taken as a refusal with no known secret (signature_invalid).
 */
export interface CredentialStore<C, T> {
  // An answer at hand (a cache hit) may come back as it is: no promise, no microtask.
  consumer(key: string): Promise<ConsumerLookup<C> | null> | ConsumerLookup<C> | null;
  token(token: string, consumer: C): Promise<TokenLookup<T> | null> | TokenLookup<T> | null;
}

/**
 * Injected by the service: the replay guard. Resolves true when the nonce was
 * unused (and records it), false when it was seen before for the same consumer
 * and token inside the timestamp window.
 */
export interface NonceStore {
  use(consumerKey: string, token: string, nonce: string, timestamp: number): Promise<boolean>;
}

export interface VerifyOptions {
  /** Seconds either side of the server clock (SIGNET_TIMESTAMP_WINDOW). */
  timestampWindow: number;
  /** Clock in seconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Whether the route needs an access token (three-legged) or forbids one (two-legged). */
  requireToken: boolean;
}

export interface VerifiedRequest<C, T> {
  consumer: C;
  consumerKey: string;
  token: T | null;
  tokenKey: string | null;
  signatureMethod: SignatureMethod;
  /** Which of the consumer's secrets (ConsumerLookup.secrets) the signature matched. */
  consumerSecretIndex: number;
  /** All oauth_* protocol parameters from the header. */
  oauthParams: Record<string, string>;
}
