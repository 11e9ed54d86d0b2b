// Per-pod caches of consumers and access tokens, and the CredentialStore the OAuth
// verifier reads through them.
//
// PostgreSQL is the source of truth; the caches only save a query. The rules (DESIGN.md, 1):
//  * every entry is bounded in age (maxAgeMs, e.g. 30 s) and the caches in size (LRU);
//    a consumer entry also ends when a rotation's grace period ends (secretsValidUntil),
//    a token entry when the token expires;
//  * the signet.* events evict (see revocation.ts); a revoked consumer takes every cached
//    token issued through it along, a disabled user every cached token of that user;
//  * while the bus reports disconnected, the caches are bypassed (a database read every
//    time, nothing stored), and they are cleared when it reports disconnected/reconnected;
//  * a fill that raced an eviction never re-inserts the stale entry: the generation is read
//    before the database read and the entry is stored only if no eviction happened since.
import type { Kysely } from "kysely";
import { type Bus } from "@signet/shared/bus";
import { type Keyring } from "@signet/shared/crypto";
import { type Database, type UserStatus } from "@signet/shared/db";
import {
  OAuthError,
  type ConsumerLookup,
  type CredentialStore,
  type TokenLookup,
} from "@signet/shared/oauth";
import { consumerSecrets, findConsumer, openTokenSecret, secretsValidUntil } from "@signet/shared/repos";

/** The consumer as routes see it (no secrets). */
export interface AuthConsumer {
  key: string;
  name: string;
  scopes: string[];
}

/** The user behind an access token. */
export interface AuthUser {
  id: string;
  username: string;
  display_name: string;
  status: UserStatus;
}

/** A verified access token. */
export interface AuthToken {
  token: string;
  consumer_key: string;
  user_id: string;
  expires_at: Date;
  user: AuthUser;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/** A Map used as an LRU (re-inserted on read) with a per-entry expiry. */
export class TtlLru<V> {
  private readonly map = new Map<string, Entry<V>>();
  constructor(private readonly maxEntries: number) {}

  get(key: string, now: number): V | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.map.delete(key);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    if (this.maxEntries <= 0) return;
    this.map.delete(key);
    this.map.set(key, { value, expiresAt });
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  /** Deletes every entry whose value matches; returns how many. */
  deleteWhere(match: (value: V) => boolean): number {
    let n = 0;
    for (const [key, entry] of this.map) {
      if (match(entry.value)) {
        this.map.delete(key);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}

export interface CacheStats {
  consumerHits: number;
  consumerMisses: number;
  tokenHits: number;
  tokenMisses: number;
  /** Lookups that went to the database without touching the cache (bus disconnected). */
  bypassed: number;
  evictions: number;
  clears: number;
  /** Fills dropped because an eviction happened while the database was being read. */
  staleFillsDropped: number;
  consumers: number;
  tokens: number;
  generation: number;
}

export interface CacheEvents {
  hit?(kind: "consumer" | "token"): void;
  miss?(kind: "consumer" | "token"): void;
  bypass?(kind: "consumer" | "token"): void;
}

interface CachedConsumer {
  consumer: AuthConsumer;
  secrets: string[];
}

interface CachedToken {
  token: AuthToken;
  secret: string;
}

export interface CredentialCacheOptions {
  db: Kysely<Database>;
  keyring: Keyring;
  /** Decides whether the caches may be trusted (events are being delivered). */
  bus: Pick<Bus, "isConnected">;
  maxAgeMs: number;
  maxEntries: number;
  events?: CacheEvents;
  now?: () => number;
}

/**
 * The per-pod credential cache and the CredentialStore over it. `consumer()` and
 * `token()` follow the verifier's contract: null for unknown, OAuthError for refused.
 */
export class CredentialCache implements CredentialStore<AuthConsumer, AuthToken> {
  private readonly consumers: TtlLru<CachedConsumer>;
  private readonly tokens: TtlLru<CachedToken>;
  private generation = 0;
  private readonly counts = {
    consumerHits: 0,
    consumerMisses: 0,
    tokenHits: 0,
    tokenMisses: 0,
    bypassed: 0,
    evictions: 0,
    clears: 0,
    staleFillsDropped: 0,
  };
  private readonly now: () => number;

  constructor(private readonly options: CredentialCacheOptions) {
    this.consumers = new TtlLru(options.maxEntries);
    this.tokens = new TtlLru(options.maxEntries);
    this.now = options.now ?? Date.now;
  }

  private cacheable(): boolean {
    return this.options.maxAgeMs > 0 && this.options.maxEntries > 0 && this.options.bus.isConnected();
  }

  // ---- CredentialStore -------------------------------------------------------------

  async consumer(key: string): Promise<ConsumerLookup<AuthConsumer> | null> {
    const useCache = this.cacheable();
    if (useCache) {
      const cached = this.consumers.get(key, this.now());
      if (cached) {
        this.counts.consumerHits++;
        this.options.events?.hit?.("consumer");
        return { record: cached.consumer, secrets: cached.secrets };
      }
      this.counts.consumerMisses++;
      this.options.events?.miss?.("consumer");
    } else {
      this.counts.bypassed++;
      this.options.events?.bypass?.("consumer");
    }

    const generation = this.generation;
    const row = await findConsumer(this.options.db, key);
    if (!row) return null;
    if (row.status !== "active")
      throw new OAuthError("consumer_key_rejected", "this consumer has been revoked");
    const now = this.now();
    const value: CachedConsumer = {
      consumer: { key: row.key, name: row.name, scopes: [...row.scopes] },
      secrets: consumerSecrets(this.options.keyring, row, now),
    };
    if (useCache) {
      const expiresAt = Math.min(now + this.options.maxAgeMs, secretsValidUntil(row, now));
      this.store(generation, () => this.consumers.set(key, value, expiresAt));
    }
    return { record: value.consumer, secrets: value.secrets };
  }

  async token(token: string, consumer: AuthConsumer): Promise<TokenLookup<AuthToken> | null> {
    const useCache = this.cacheable();
    if (useCache) {
      const cached = this.tokens.get(token, this.now());
      if (cached) {
        this.counts.tokenHits++;
        this.options.events?.hit?.("token");
        if (cached.token.consumer_key !== consumer.key) return null;
        return { record: cached.token, secret: cached.secret };
      }
      this.counts.tokenMisses++;
      this.options.events?.miss?.("token");
    } else {
      this.counts.bypassed++;
      this.options.events?.bypass?.("token");
    }

    const generation = this.generation;
    const row = await this.options.db
      .selectFrom("access_tokens as t")
      .innerJoin("users as u", "u.id", "t.user_id")
      .innerJoin("consumers as c", "c.key", "t.consumer_key")
      .select([
        "t.token",
        "t.secret_sealed",
        "t.user_id",
        "t.consumer_key",
        "t.created_at",
        "t.expires_at",
        "t.revoked_at",
        "u.username",
        "u.display_name",
        "u.status as user_status",
        "c.status as consumer_status",
      ])
      .where("t.token", "=", token)
      .executeTakeFirst();
    // A token presented by another consumer than the one it was issued through is unknown to it.
    if (!row || row.consumer_key !== consumer.key) return null;
    if (row.revoked_at !== null || row.consumer_status !== "active") {
      throw new OAuthError("token_revoked", "this token has been revoked");
    }
    const now = this.now();
    const expiresAt = row.expires_at.getTime();
    if (expiresAt <= now) throw new OAuthError("token_expired", "this token has expired");
    const value: CachedToken = {
      token: {
        token: row.token,
        consumer_key: row.consumer_key,
        user_id: row.user_id,
        expires_at: row.expires_at,
        user: {
          id: row.user_id,
          username: row.username,
          display_name: row.display_name,
          status: row.user_status,
        },
      },
      secret: openTokenSecret(this.options.keyring, row),
    };
    if (useCache) {
      this.store(generation, () =>
        this.tokens.set(token, value, Math.min(now + this.options.maxAgeMs, expiresAt)),
      );
    }
    return { record: value.token, secret: value.secret };
  }

  /** Stores only if no eviction happened since `generation` was read and the bus is still up. */
  private store(generation: number, insert: () => void): void {
    if (generation !== this.generation || !this.options.bus.isConnected()) {
      this.counts.staleFillsDropped++;
      return;
    }
    insert();
  }

  // ---- eviction ----------------------------------------------------------------------

  private bump(): void {
    this.generation++;
    this.counts.evictions++;
  }

  /** A revoked (or rotated) consumer: the consumer and every cached token issued through it. */
  evictConsumer(key: string): void {
    this.bump();
    this.consumers.delete(key);
    this.tokens.deleteWhere((t) => t.token.consumer_key === key);
  }

  /** A rotated consumer: only its secrets changed; its tokens stay valid. */
  evictConsumerSecrets(key: string): void {
    this.bump();
    this.consumers.delete(key);
  }

  /** A disabled user (or a password change): every cached token of that user. */
  evictUser(userId: string): void {
    this.bump();
    this.tokens.deleteWhere((t) => t.token.user_id === userId);
  }

  evictToken(token: string): void {
    this.bump();
    this.tokens.delete(token);
  }

  /** Forget everything (bus reconnected or disconnected, malformed event). */
  clear(): void {
    this.bump();
    this.counts.clears++;
    this.consumers.clear();
    this.tokens.clear();
  }

  stats(): CacheStats {
    return {
      ...this.counts,
      consumers: this.consumers.size,
      tokens: this.tokens.size,
      generation: this.generation,
    };
  }
}
