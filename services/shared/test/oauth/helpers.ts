// Test doubles for the verifier's injected stores, and the verifier over them.
import {
  createVerifier,
  OAuthError,
  type ConsumerLookup,
  type CredentialStore,
  type NonceStore,
  type TokenLookup,
  type Verifier,
} from "../../src/oauth/index.js";

export interface Consumer {
  key: string;
  name: string;
}
export interface Token {
  token: string;
  userId: number;
}

export const CONSUMER = { key: "consumer-key-1", secret: "consumer secret/1+&" };
export const TOKEN = { key: "token-key-1", secret: "token~secret%2" };
export const NOW = 1_700_000_000;

/**
 * In-memory credentials: one active consumer (optionally with a second secret), a revoked one
 * ("revoked-consumer", with CONSUMER's secret), and tokens of CONSUMER's — TOKEN, and with
 * TOKEN's secret "revoked-token", "expired-token" and "other-consumers-token" (issued through
 * another consumer). Refused ones are answered with their secrets and state, as the verifier
 * wants them; any other key or token is unknown (null).
 */
export function memoryCredentials(extraSecrets: string[] = []): CredentialStore<Consumer, Token> {
  const at = memoryCredentialsAtHand(extraSecrets);
  return {
    async consumer(key) {
      return at.consumer(key);
    },
    async token(token, consumer) {
      return at.token(token, consumer);
    },
  };
}

/** The same credentials answered at once, with no promise (as a cache hit answers). */
export function memoryCredentialsAtHand(extraSecrets: string[] = []): {
  consumer: (key: string) => ConsumerLookup<Consumer> | null;
  token: (token: string, consumer: Consumer) => TokenLookup<Token> | null;
} {
  const refusedTokens = {
    "revoked-token": "token_revoked",
    "expired-token": "token_expired",
    "other-consumers-token": "token_rejected",
  } as const;
  return {
    consumer(key) {
      if (key === CONSUMER.key)
        return { record: { key, name: "test" }, secrets: [CONSUMER.secret, ...extraSecrets] };
      if (key === "revoked-consumer")
        return {
          record: { key, name: "gone" },
          secrets: [CONSUMER.secret],
          refused: "consumer_key_rejected",
        };
      return null;
    },
    token(token, consumer) {
      if (consumer.key !== CONSUMER.key && consumer.key !== "revoked-consumer") return null;
      const record = { token, userId: 7 };
      if (token === TOKEN.key) return { record, secret: TOKEN.secret };
      if (Object.hasOwn(refusedTokens, token)) {
        const refused = refusedTokens[token as keyof typeof refusedTokens];
        return { record, secret: TOKEN.secret, refused };
      }
      return null;
    },
  };
}

/** In-memory replay guard: remembers (consumer, token, nonce). */
export class MemoryNonces implements NonceStore {
  readonly seen = new Set<string>();
  calls = 0;
  async use(consumerKey: string, token: string, nonce: string, _timestamp: number): Promise<boolean> {
    this.calls++;
    const k = `${consumerKey}\u0000${token}\u0000${nonce}`;
    if (this.seen.has(k)) return false;
    this.seen.add(k);
    return true;
  }
}

interface VerifierOptions {
  extraSecrets?: string[];
  nonces?: NonceStore;
  now?: number;
  requireToken?: boolean;
}

/**
 * The verifier under test: the in-memory credentials (or `credentials`), a fresh replay guard
 * (or `nonces`), a 300 s window around `now` (NOW), a token required unless told otherwise.
 */
export function verifier(opts?: VerifierOptions): Verifier<Consumer, Token>;
export function verifier<C, T>(
  opts: VerifierOptions & { credentials: CredentialStore<C, T> },
): Verifier<C, T>;
export function verifier(opts: VerifierOptions & { credentials?: CredentialStore<unknown, unknown> } = {}) {
  return createVerifier({
    credentials: opts.credentials ?? memoryCredentials(opts.extraSecrets),
    nonces: opts.nonces ?? new MemoryNonces(),
    timestampWindow: 300,
    now: () => opts.now ?? NOW,
    requireToken: opts.requireToken ?? true,
  });
}

/** Resolves to the OAuthError a promise rejects with; fails when it resolves or throws something else. */
export async function rejection(p: Promise<unknown>): Promise<OAuthError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OAuthError) return e;
    throw new Error(`expected OAuthError, got ${String(e)}`, { cause: e });
  }
  throw new Error("expected a rejection, but the request verified");
}
