// The `credentials` plugin: this pod's caches of consumers and access tokens, and the
// CredentialStore the OAuth verifier (plugins/oauth.ts) reads through them. Decorates
// `app.credentials`; counts lookups in signet_credential_cache_lookups_total.
//
// PostgreSQL is the source of truth; the caches only save a query. The rules
// (docs/design.md, "Bounded caches"):
//  * every entry is bounded in age (maxAgeMs, e.g. 30 s) and the caches in size (LRU);
//    a consumer entry also ends when a rotation's grace period ends (secretsValidUntil),
//    a token entry when the token expires;
//  * the signet.* events evict (plugins/revocations.ts); a revoked consumer takes every
//    cached token issued through it along, a disabled user every cached token of that user;
//  * while the bus reports disconnected, the caches are bypassed (a database read every
//    time, nothing stored), and they are cleared when it reports disconnected/reconnected;
//  * a fill that raced an eviction never re-inserts the stale entry: the generation is read
//    before the database read and the entry is stored only if no eviction happened since.
import fp from "fastify-plugin";
import type { Kysely } from "kysely";
import { Counter } from "prom-client";
import { type Bus } from "@signet/shared/bus";
import { type Keyring } from "@signet/shared/crypto";
import { type Database, type UserStatus } from "@signet/shared/db";
import {
  OAuthError,
  type ConsumerLookup,
  type CredentialStore,
  type TokenLookup,
} from "@signet/shared/oauth";
import {
  consumerSecrets,
  findConsumer,
  findTokenForVerification,
  openTokenSecret,
  secretsValidUntil,
} from "@signet/shared/repos";
import { TtlLru } from "../ttl-lru.js";

declare module "fastify" {
  interface FastifyInstance {
    /** This pod's credential caches (the credentials plugin). */
    credentials: CredentialCache;
  }
}

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

interface CacheStats {
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

type Kind = "consumer" | "token";
type LookupResult = "hit" | "miss" | "bypass";

interface CachedConsumer {
  consumer: AuthConsumer;
  secrets: string[];
}

interface CachedToken {
  token: AuthToken;
  secret: string;
}

interface CredentialCacheOptions {
  db: Kysely<Database>;
  keyring: Keyring;
  /** Decides whether the caches may be trusted (events are being delivered). */
  bus: Pick<Bus, "isConnected">;
  maxAgeMs: number;
  maxEntries: number;
  /** Called for every lookup (the lookups metric). */
  onLookup?: (kind: Kind, result: LookupResult) => void;
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

  constructor(private readonly options: CredentialCacheOptions) {
    this.consumers = new TtlLru(options.maxEntries);
    this.tokens = new TtlLru(options.maxEntries);
  }

  private cacheable(): boolean {
    return this.options.maxAgeMs > 0 && this.options.maxEntries > 0 && this.options.bus.isConnected();
  }

  /** The cached value, if the caches may be used and hold it; counts the lookup. */
  private cached<V>(kind: Kind, lru: TtlLru<V>, key: string, useCache: boolean): V | undefined {
    const value = useCache ? lru.get(key, Date.now()) : undefined;
    const result: LookupResult = !useCache ? "bypass" : value ? "hit" : "miss";
    if (result === "bypass") this.counts.bypassed++;
    else if (kind === "consumer") this.counts[result === "hit" ? "consumerHits" : "consumerMisses"]++;
    else this.counts[result === "hit" ? "tokenHits" : "tokenMisses"]++;
    this.options.onLookup?.(kind, result);
    return value;
  }

  // ---- CredentialStore -------------------------------------------------------------

  async consumer(key: string): Promise<ConsumerLookup<AuthConsumer> | null> {
    const useCache = this.cacheable();
    const cached = this.cached("consumer", this.consumers, key, useCache);
    if (cached) return { record: cached.consumer, secrets: cached.secrets };

    const generation = this.generation;
    const row = await findConsumer(this.options.db, key);
    if (!row) return null;
    if (row.status !== "active")
      throw new OAuthError("consumer_key_rejected", "this consumer has been revoked");
    const now = Date.now();
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
    const cached = this.cached("token", this.tokens, token, useCache);
    if (cached) {
      if (cached.token.consumer_key !== consumer.key) return null;
      return { record: cached.token, secret: cached.secret };
    }

    const generation = this.generation;
    const row = await findTokenForVerification(this.options.db, token);
    // A token presented by another consumer than the one it was issued through is unknown to it.
    if (!row || row.consumer_key !== consumer.key) return null;
    if (row.revoked_at !== null || row.consumer_status !== "active") {
      throw new OAuthError("token_revoked", "this token has been revoked");
    }
    const now = Date.now();
    const expiresAt = row.expires_at.getTime();
    if (expiresAt <= now) throw new OAuthError("token_expired", "this token has expired");
    const { user_id, username, display_name, user_status } = row;
    const value: CachedToken = {
      token: {
        token: row.token,
        consumer_key: row.consumer_key,
        user_id,
        expires_at: row.expires_at,
        user: { id: user_id, username, display_name, status: user_status },
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

  /** A revoked consumer: the consumer and every cached token issued through it. */
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

export const credentials = fp(
  async (app) => {
    const lookups = new Counter({
      name: "signet_credential_cache_lookups_total",
      help: "Credential cache lookups by kind (consumer, token) and result (hit, miss, bypass: bus disconnected)",
      labelNames: ["kind", "result"],
      registers: [app.metrics],
    });
    const { keyring, cacheMaxAgeMs, cacheMaxEntries } = app.dataConfig;
    app.decorate(
      "credentials",
      new CredentialCache({
        db: app.db,
        keyring,
        bus: app.bus,
        maxAgeMs: cacheMaxAgeMs,
        maxEntries: cacheMaxEntries,
        onLookup: (kind, result) => lookups.inc({ kind, result }),
      }),
    );
  },
  { name: "credentials", dependencies: ["signet-observability", "db", "bus"] },
);
