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
//    before the database read and the entry is stored only if no eviction happened since;
//  * a refused consumer or token (revoked, expired) is cached with its secrets and state:
//    the verifier tells the state only to a request signed with them;
//  * an unknown key or token is remembered for UNKNOWN_TTL_MS (../lookup-cache.ts), and
//    concurrent misses of one key share one read, so garbage does not reach PostgreSQL on
//    every request; an eviction also forgets unknowns and drops reads in flight from sharing;
//  * expiry and grace ends are judged on the DATABASE's clock (docs/design.md, "Credential
//    lifecycle"): each consumer read returns the database's time, and a cached entry ends no
//    later than the consumer's expires_at on that clock, converted through that very read
//    (the earliest pod time it can correspond to) — no event is needed for a consumer to lapse;
//  * the emergency not-before (POST /revoke-all) is read with every token and kept in memory
//    (notBefore), raised by signet.tokens.not_before; a token created before it is refused.
// The plugin also decorates `app.lastUsed` (../last-used.ts), fed by plugins/oauth.ts.
import fp from "fastify-plugin";
import type { Kysely } from "kysely";
import { Counter } from "prom-client";
import { type Bus } from "@signet/shared/bus";
import { type Keyring } from "@signet/shared/crypto";
import { type Database, type UserStatus } from "@signet/shared/db";
import { type ConsumerLookup, type CredentialStore, type TokenLookup } from "@signet/shared/oauth";
import {
  findConsumerForVerification,
  findTokenForVerification,
  liveSecrets,
  openTokenSecret,
  secretsValidUntil,
} from "@signet/shared/repos";
import { LastUsedRecorder } from "../last-used.js";
import { LookupCache, type LookupResult, type Read } from "../lookup-cache.js";

declare module "fastify" {
  interface FastifyInstance {
    /** This pod's credential caches (the credentials plugin). */
    credentials: CredentialCache;
    /** The last use of each consumer secret, written in batches (the credentials plugin). */
    lastUsed: LastUsedRecorder;
  }
}

/** The consumer as routes see it (no secrets). */
export interface AuthConsumer {
  key: string;
  name: string;
  scopes: string[];
  /** The ids of its live secrets, in the order of the lookup's secrets (last-used reports). */
  secretIds: readonly string[];
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
  created_at: Date;
  expires_at: Date;
  user: AuthUser;
}

type Kind = "consumer" | "token";
/** As LookupResult, or bypass: a read of its own with the caches bypassed (bus disconnected). */
type Result = LookupResult | "bypass";

/**
 * How long a consumer key or token the database did not know is answered as unknown without
 * asking it again. The trade-off: a key presented before it existed — a bootstrap consumer
 * whose client starts before the registry created it — is refused that long after it is
 * created. Registry-made keys and tokens are random, so no client can present one earlier.
 */
export const UNKNOWN_TTL_MS = 5_000;

/** How long the best (shortest round trip) clock-offset sample is kept before any new one replaces it. */
const OFFSET_SAMPLE_MS = 10_000;

/** Cached as the verifier takes it (a ConsumerLookup), so a hit hands over the entry itself. */
interface CachedConsumer {
  record: AuthConsumer;
  secrets: string[];
  refused?: "consumer_key_rejected";
  message?: string;
}

interface CachedToken {
  token: AuthToken;
  secret: string;
  refused?: "token_revoked";
}

interface CredentialCacheOptions {
  db: Kysely<Database>;
  keyring: Keyring;
  /** Decides whether the caches may be trusted (events are being delivered). */
  bus: Pick<Bus, "isConnected">;
  maxAgeMs: number;
  maxEntries: number;
}

/** Lookups so far, by kind and result (signet_credential_cache_lookups_total reads them at scrape). */
export type LookupCounts = Record<Kind, Record<Result, number>>;

/**
 * The per-pod credential cache and the CredentialStore over it. `consumer()` and
 * `token()` follow the verifier's contract: null for unknown, a lookup with `refused` set
 * for a revoked or expired one.
 */
export class CredentialCache implements CredentialStore<AuthConsumer, AuthToken> {
  private readonly consumers: LookupCache<CachedConsumer>;
  private readonly tokens: LookupCache<CachedToken>;
  private generation = 0;
  /**
   * The database's clock minus this pod's (ms), for last-used reports: from the consumer
   * read with the shortest round trip in the last OFFSET_SAMPLE_MS (a slow read, e.g. one
   * that opened a connection, says less about the offset), re-measured after that. Cache
   * entries do not use it: each is bounded by its own read's database time.
   */
  private offsetMs = 0;
  private offsetRttMs = Number.POSITIVE_INFINITY;
  private offsetMeasuredAt = 0;
  /** Tokens created before this instant (ms, the database's clock) are refused (POST /revoke-all). */
  private notBeforeMs = Number.NEGATIVE_INFINITY;
  /**
   * Every lookup counted by kind and result: plain numbers on the hot path, handed to the
   * metric when it is scraped (a prom-client inc with labels hashes them each time).
   */
  readonly lookups: LookupCounts = {
    consumer: { hit: 0, unknown: 0, miss: 0, joined: 0, bypass: 0 },
    token: { hit: 0, unknown: 0, miss: 0, joined: 0, bypass: 0 },
  };
  private readonly counts = {
    evictions: 0,
    clears: 0,
    /** Fills dropped because an eviction happened while the database was being read. */
    staleFillsDropped: 0,
  };

  constructor(private readonly options: CredentialCacheOptions) {
    const guard = {
      generation: () => this.generation,
      store: (generation: number, insert: () => void) => this.store(generation, insert),
    };
    const unknownTtlMs = Math.min(UNKNOWN_TTL_MS, options.maxAgeMs);
    this.consumers = new LookupCache(options.maxEntries, unknownTtlMs, guard);
    this.tokens = new LookupCache(options.maxEntries, unknownTtlMs, guard);
  }

  private cacheable(): boolean {
    return this.options.maxAgeMs > 0 && this.options.maxEntries > 0 && this.options.bus.isConnected();
  }

  private count(kind: Kind, result: Result): void {
    this.lookups[kind][result]++;
  }

  /** Through the cache (what it holds answered at once), or (bus down, caching off) from the database. */
  private lookup<V>(
    kind: Kind,
    cache: LookupCache<V>,
    key: string,
    read: () => Promise<Read<V>>,
  ): V | null | Promise<V | null> {
    if (this.cacheable()) return cache.get(key, read, (result) => this.count(kind, result));
    this.count(kind, "bypass");
    return read().then((answer) => answer?.value ?? null);
  }

  // ---- CredentialStore -------------------------------------------------------------

  consumer(key: string): ConsumerLookup<AuthConsumer> | null | Promise<ConsumerLookup<AuthConsumer> | null> {
    return this.lookup("consumer", this.consumers, key, () => this.readConsumer(key));
  }

  token(
    token: string,
    consumer: AuthConsumer,
  ): TokenLookup<AuthToken> | null | Promise<TokenLookup<AuthToken> | null> {
    const entry = this.lookup("token", this.tokens, token, () => this.readToken(token));
    return entry instanceof Promise
      ? entry.then((e) => this.tokenLookup(e, consumer))
      : this.tokenLookup(entry, consumer);
  }

  /** A token's lookup: its state now, and whether `consumer` may present it. */
  private tokenLookup(entry: CachedToken | null, consumer: AuthConsumer): TokenLookup<AuthToken> | null {
    if (!entry) return null;
    const refused =
      // a token presented by another consumer than the one it was issued through
      entry.token.consumer_key !== consumer.key
        ? "token_rejected"
        : (entry.refused ??
          (entry.token.created_at.getTime() < this.notBeforeMs
            ? "token_revoked"
            : entry.token.expires_at.getTime() <= Date.now()
              ? "token_expired"
              : undefined));
    return { record: entry.token, secret: entry.secret, refused };
  }

  /** The database's clock minus this pod's, in milliseconds (last measured). */
  clockOffsetMs(): number {
    return this.offsetMs;
  }

  private async readConsumer(key: string): Promise<Read<CachedConsumer>> {
    const sentAt = Date.now();
    const row = await findConsumerForVerification(this.options.db, key);
    if (!row) return null;
    const now = Date.now();
    this.measureOffset(row.db_now_ms, sentAt, now);
    const dbNow = row.db_now_ms;
    const expiresAt = row.expires_at?.getTime() ?? Number.POSITIVE_INFINITY;
    const expired = expiresAt <= dbNow;
    const secrets = liveSecrets(this.options.keyring, row, dbNow);
    const value: CachedConsumer = {
      record: {
        key: row.key,
        name: row.name,
        scopes: [...row.scopes],
        secretIds: secrets.map((s) => s.id),
      },
      secrets: secrets.map((s) => s.secret),
      ...(row.status !== "active"
        ? { refused: "consumer_key_rejected" as const }
        : expired
          ? { refused: "consumer_key_rejected" as const, message: "this consumer has expired" }
          : {}),
    };
    // on the pod's clock: the age cap, the end of a grace period, the expiry — the database's
    // `dbNow` happened at some pod time between sentAt and now: take the earliest, so the
    // entry never outlives the change however much the pod's clock is off (or just stepped)
    const changesAt = Math.min(secretsValidUntil(row, dbNow), expired ? Infinity : expiresAt);
    return { value, until: Math.min(now + this.options.maxAgeMs, changesAt - dbNow + sentAt) };
  }

  private async readToken(token: string): Promise<Read<CachedToken>> {
    const row = await findTokenForVerification(this.options.db, token);
    if (!row) return null;
    const now = Date.now();
    if (row.not_before) this.raiseNotBefore(row.not_before.getTime());
    const refused =
      row.revoked_at !== null ||
      row.consumer_status !== "active" ||
      row.consumer_expired ||
      row.before_not_before;
    const { user_id, username, display_name, user_status } = row;
    const value: CachedToken = {
      token: {
        token: row.token,
        consumer_key: row.consumer_key,
        user_id,
        created_at: row.created_at,
        expires_at: row.expires_at,
        user: { id: user_id, username, display_name, status: user_status },
      },
      secret: openTokenSecret(this.options.keyring, row),
      ...(refused ? { refused: "token_revoked" as const } : {}),
    };
    // a live token's entry ends when the token does; a dead one's state no longer changes
    const expiresAt = row.expires_at.getTime();
    const live = !refused && expiresAt > now;
    return { value, until: Math.min(now + this.options.maxAgeMs, live ? expiresAt : Infinity) };
  }

  /** The database's clock at a read, against the pod's at the middle of the round trip. */
  private measureOffset(dbNowMs: number, sentAt: number, answeredAt: number): void {
    const rtt = answeredAt - sentAt;
    if (rtt <= this.offsetRttMs || answeredAt - this.offsetMeasuredAt > OFFSET_SAMPLE_MS) {
      this.offsetMs = dbNowMs - (sentAt + answeredAt) / 2;
      this.offsetRttMs = rtt;
      this.offsetMeasuredAt = answeredAt;
    }
  }

  private raiseNotBefore(instantMs: number): void {
    if (instantMs > this.notBeforeMs) this.notBeforeMs = instantMs;
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

  /** Every eviction: a new generation, and no lookup joins a read that started before it. */
  private bump(): void {
    this.generation++;
    this.counts.evictions++;
    this.consumers.dropReads();
    this.tokens.dropReads();
  }

  /** A revoked consumer: the consumer and every cached token issued through it. */
  evictConsumer(key: string): void {
    this.evictConsumerSecrets(key);
    this.tokens.found.deleteWhere((t) => t.token.consumer_key === key);
  }

  /** A rotated (or changed) consumer: only its own entry; its tokens stay valid. */
  evictConsumerSecrets(key: string): void {
    this.bump();
    this.consumers.forget(key);
  }

  /** A disabled user (or a password change): every cached token of that user. */
  evictUser(userId: string): void {
    this.bump();
    this.tokens.found.deleteWhere((t) => t.token.user_id === userId);
  }

  evictToken(token: string): void {
    this.bump();
    this.tokens.forget(token);
  }

  /**
   * Every token created before `instant` is dead (signet.tokens.not_before): refused from
   * now on, and the cached ones created up to that millisecond forgotten (a token of the
   * same millisecond is read anew; the database compares to the microsecond).
   */
  applyNotBefore(instant: Date): void {
    const ms = instant.getTime();
    this.bump();
    this.raiseNotBefore(ms);
    this.tokens.found.deleteWhere((t) => t.token.created_at.getTime() <= ms);
  }

  /** Forget everything (bus reconnected or disconnected, malformed event). */
  clear(): void {
    this.bump();
    this.counts.clears++;
    this.consumers.clear();
    this.tokens.clear();
  }

  stats() {
    const { consumer, token } = this.lookups;
    return {
      consumerHits: consumer.hit,
      consumerMisses: consumer.miss,
      tokenHits: token.hit,
      tokenMisses: token.miss,
      /** Lookups that went to the database without touching the cache (bus disconnected). */
      bypassed: consumer.bypass + token.bypass,
      /** Lookups answered from the unknown keys and tokens (no database read). */
      unknownHits: consumer.unknown + token.unknown,
      /** Lookups that shared a concurrent lookup's database read. */
      joinedReads: consumer.joined + token.joined,
      ...this.counts,
      consumers: this.consumers.found.size,
      tokens: this.tokens.found.size,
      unknownConsumers: this.consumers.unknown.size,
      unknownTokens: this.tokens.unknown.size,
      generation: this.generation,
      notBeforeMs: this.notBeforeMs,
      clockOffsetMs: this.offsetMs,
    };
  }
}

export const credentials = fp(
  async (app) => {
    const { keyring, cacheMaxAgeMs, cacheMaxEntries, podId } = app.dataConfig;
    const cache = new CredentialCache({
      db: app.db,
      keyring,
      bus: app.bus,
      maxAgeMs: cacheMaxAgeMs,
      maxEntries: cacheMaxEntries,
    });
    new Counter({
      name: "signet_credential_cache_lookups_total",
      help: "Credential cache lookups by kind (consumer, token) and result (hit, unknown: a key the database did not know, answered again from memory, miss: a database read, joined: a concurrent lookup's read shared, bypass: bus disconnected)",
      labelNames: ["kind", "result"],
      registers: [app.metrics],
      collect() {
        this.reset();
        for (const [kind, results] of Object.entries(cache.lookups)) {
          for (const [result, n] of Object.entries(results)) if (n > 0) this.inc({ kind, result }, n);
        }
      },
    });
    const lastUsedWrites = new Counter({
      name: "signet_last_used_rows_written_total",
      help: "Last-used rows (one per consumer secret used since the previous write) this pod wrote in its batches",
      registers: [app.metrics],
    });
    app.decorate("credentials", cache);
    const lastUsed = new LastUsedRecorder({
      db: app.db,
      pod: podId,
      log: app.log.child({ component: "last-used" }),
      clockOffsetMs: () => cache.clockOffsetMs(),
      onFlush: (rows) => lastUsedWrites.inc(rows),
    });
    app.decorate("lastUsed", lastUsed);
    lastUsed.start();
    app.addHook("onClose", async () => lastUsed.close());
  },
  { name: "credentials", dependencies: ["signet-observability", "db", "bus"] },
);
