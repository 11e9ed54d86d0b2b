// Session stores for @fastify/session (docs/design.md, "Server-side sessions").
// - NatsKvSessionStore: a NATS JetStream key-value bucket whose TTL is the session lifetime,
//   so every frontend replica sees the same sessions and a restart loses none. What it writes
//   there is sealed (session-seal.ts): hashed keys, encrypted values.
// - MemorySessionStore: one process only (`npm start` without NATS_URL, unit tests).
import type { Session } from "fastify";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { openBucket, StoreUnavailableError, withTimeout } from "./kv.js";
import { bucketKeyOf, type SessionSeal } from "./session-seal.js";

type Callback = (error?: unknown) => void;
type SessionCallback = (error: unknown, session?: Session | null) => void;

/** The store interface @fastify/session calls (express-session compatible). */
export interface SessionStore {
  set(sessionId: string, session: Session, callback: Callback): void;
  get(sessionId: string, callback: SessionCallback): void;
  destroy(sessionId: string, callback: Callback): void;
  /** Throws when the store cannot be reached (the readiness check "sessions"). */
  ping(): Promise<void>;
  /** Releases what the store opened itself. */
  close?(): Promise<void>;
}

const unavailable = (cause: unknown) => new StoreUnavailableError("SESSION_STORE_UNAVAILABLE", cause);

/** Session ids the stores accept: what our id generator makes (base64url). */
const SESSION_ID = /^[A-Za-z0-9_-]{16,128}$/;

function expiryOf(session: Session, fallbackMs: number): number {
  const expires = (session as { cookie?: { expires?: Date | string | null } }).cookie?.expires;
  const at = expires ? new Date(expires).getTime() : NaN;
  return Number.isFinite(at) ? at : Date.now() + fallbackMs;
}

export class MemorySessionStore implements SessionStore {
  private readonly entries = new Map<string, { json: string; expiresAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly ttlMs = 8 * 3600_000) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private sweep(now = Date.now()): void {
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(id);
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    this.entries.set(sessionId, { json: JSON.stringify(session), expiresAt: expiryOf(session, this.ttlMs) });
    callback();
  }

  get(sessionId: string, callback: SessionCallback): void {
    const entry = this.entries.get(sessionId);
    if (!entry || entry.expiresAt <= Date.now()) {
      this.entries.delete(sessionId);
      callback(null, null);
      return;
    }
    callback(null, JSON.parse(entry.json) as Session);
  }

  destroy(sessionId: string, callback: Callback): void {
    this.entries.delete(sessionId);
    callback();
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
  }
}

export class NatsKvSessionStore implements SessionStore {
  private constructor(
    private readonly kv: KV,
    private readonly seal: SessionSeal,
  ) {}

  /**
   * Opens the bucket, creating it when it does not exist yet (safe from several replicas at
   * once): `ttlMs` is the session lifetime, the max age of each entry since its last write;
   * `replicas` of its stream, 1 on a single server, 3 on a cluster; `seal` keys and seals
   * every entry.
   */
  static async open(
    nc: NatsConnection,
    options: { bucket: string; ttlMs: number; replicas?: number; seal: SessionSeal },
  ): Promise<NatsKvSessionStore> {
    const kv = await openBucket(nc, { ...options, description: "Signet frontend sessions" });
    return new NatsKvSessionStore(kv, options.seal);
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    if (!SESSION_ID.test(sessionId)) return callback(new Error("malformed session id"));
    const sealed = this.seal.seal(sessionId, session);
    withTimeout(this.kv.put(bucketKeyOf(sessionId), sealed), "session put").then(
      () => callback(),
      (error: unknown) => callback(unavailable(error)),
    );
  }

  get(sessionId: string, callback: SessionCallback): void {
    if (!SESSION_ID.test(sessionId)) return callback(null, null);
    withTimeout(this.kv.get(bucketKeyOf(sessionId)), "session get").then(
      (entry) => {
        if (!entry || entry.operation !== "PUT" || entry.length === 0) return callback(null, null);
        // a value that does not open (another secret, tampered, pre-sealing plaintext) is no session
        callback(null, this.seal.open(sessionId, entry.string()));
      },
      (error: unknown) => callback(unavailable(error)),
    );
  }

  destroy(sessionId: string, callback: Callback): void {
    if (!SESSION_ID.test(sessionId)) return callback();
    // purge leaves no history of the value behind (only a marker the TTL removes)
    withTimeout(this.kv.purge(bucketKeyOf(sessionId)), "session purge").then(
      () => callback(),
      (error: unknown) => callback(unavailable(error)),
    );
  }

  async ping(): Promise<void> {
    await withTimeout(this.kv.status(), "session bucket status");
  }
}
