// The authenticated bus: every message a service acts on carries a MAC (docs/design.md,
// "Authenticated bus"). A wrapper around any Bus (NATS, or the in-process bus of `npm start`):
//   - publish/gather seal the payload: `auth: { kid, id, ts, mac }` is added, the MAC an
//     HMAC-SHA256 under a key derived from SIGNET_MASTER_KEY (HKDF, label below) over the
//     subject, a fresh message id, the time and the payload's canonical JSON;
//   - subscribe opens what arrives: a message whose MAC, key id, age or shape is wrong, or
//     whose id this subscription already saw, is dropped and reported (`onRejected`), never
//     handed to the handler; a handler's answer is sealed as a reply bound to the subject
//     and to the id of the message it answers (`auth.re`);
//   - gather counts only replies bound to the very event it published: a confirmation
//     replayed from an earlier revocation, or forged, is dropped.
// Whoever can reach NATS without the master key can delay or drop messages, never make a
// service act on one of theirs.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Bus, BusHandler, BusStatus, GatherOptions } from "./bus.js";
import type { Keyring, MasterKey } from "./crypto.js";

/** HKDF label of the bus MAC key: its own key, never the sealing key itself. */
export const BUS_MAC_LABEL = "signet/bus-mac/v1";

/** Why a message was dropped (the metric's `reason` label). */
export type RejectReason = "malformed" | "unknown_key" | "bad_mac" | "stale" | "replayed" | "unbound";

export interface AuthenticatedBusOptions {
  keyring: Keyring;
  /** Called for each dropped message or reply (metrics, logs). */
  onRejected?: (subject: string, reason: RejectReason) => void;
  /** Messages older (or further in the future) than this are stale; default 5 minutes. */
  maxAgeMs?: number;
}

interface Auth {
  kid: string;
  /** The message's id (a published message) — or `re`, the id a reply answers. */
  id?: string;
  re?: string;
  ts: number;
  mac: string;
}

type Sealed = Record<string, unknown> & { auth?: unknown };

/** JSON with object keys sorted, so the MAC does not depend on key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

function isAuth(value: unknown): value is Auth {
  const a = value as Partial<Auth> | null;
  return (
    !!a &&
    typeof a === "object" &&
    typeof a.kid === "string" &&
    typeof a.ts === "number" &&
    Number.isFinite(a.ts) &&
    typeof a.mac === "string" &&
    (typeof a.id === "string") !== (typeof a.re === "string")
  );
}

/** Remembers the ids a subscription saw for `ttlMs`; ids are only ever valid ones. */
class SeenIds {
  private readonly seen = new Map<string, number>();
  constructor(private readonly ttlMs: number) {}

  /** True when `id` is new (and remembers it). */
  add(id: string, now: number): boolean {
    if (this.seen.has(id)) return false;
    this.seen.set(id, now + this.ttlMs);
    // Map iterates in insertion order: the oldest entries come first.
    for (const [old, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(old);
    }
    return true;
  }
}

export class AuthenticatedBus implements Bus {
  private readonly keys: MasterKey[];
  private readonly byId: Map<string, Buffer>;
  private readonly maxAgeMs: number;

  constructor(
    /** The bus underneath (NATS or in-process); its lifecycle stays its owner's. */
    readonly inner: Bus,
    private readonly options: AuthenticatedBusOptions,
  ) {
    this.keys = options.keyring.derive(BUS_MAC_LABEL);
    this.byId = new Map(this.keys.map((k) => [k.id, k.key]));
    this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
  }

  private mac(key: Buffer, kind: "msg" | "reply", subject: string, id: string, ts: number, body: unknown) {
    return createHmac("sha256", key)
      .update(`${kind}\n${subject}\n${id}\n${ts}\n${canonical(body)}`)
      .digest("base64url");
  }

  private seal(kind: "msg" | "reply", subject: string, id: string, payload: unknown): Sealed {
    const body = (payload && typeof payload === "object" ? payload : { value: payload }) as Record<
      string,
      unknown
    >;
    const { auth: _ignored, ...rest } = body;
    const key = this.keys[0]!;
    const ts = Date.now();
    const auth: Auth = {
      kid: key.id,
      ...(kind === "msg" ? { id } : { re: id }),
      ts,
      mac: this.mac(key.key, kind, subject, id, ts, rest),
    };
    return { ...rest, auth };
  }

  /** The payload without its `auth`, or why it is refused. */
  private open(
    kind: "msg" | "reply",
    subject: string,
    message: unknown,
    expectedRe?: string,
  ): { payload: Record<string, unknown>; id: string } | { reason: RejectReason } {
    if (!message || typeof message !== "object" || Array.isArray(message)) return { reason: "malformed" };
    const { auth, ...payload } = message as Sealed;
    if (!isAuth(auth)) return { reason: "malformed" };
    const id = kind === "msg" ? auth.id : auth.re;
    if (id === undefined || (kind === "msg") !== (auth.id !== undefined)) return { reason: "malformed" };
    const key = this.byId.get(auth.kid);
    if (!key) return { reason: "unknown_key" };
    const expected = Buffer.from(this.mac(key, kind, subject, id, auth.ts, payload));
    const given = Buffer.from(auth.mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { reason: "bad_mac" };
    if (Math.abs(Date.now() - auth.ts) > this.maxAgeMs) return { reason: "stale" };
    if (expectedRe !== undefined && id !== expectedRe) return { reason: "unbound" };
    return { payload, id };
  }

  private reject(subject: string, reason: RejectReason): void {
    this.options.onRejected?.(subject, reason);
  }

  isConnected(): boolean {
    return this.inner.isConnected();
  }

  async publish(subject: string, payload: unknown): Promise<void> {
    await this.inner.publish(
      subject,
      this.seal("msg", subject, randomBytes(12).toString("base64url"), payload),
    );
  }

  async gather(subject: string, payload: unknown, options: GatherOptions): Promise<unknown[]> {
    const id = randomBytes(12).toString("base64url");
    const accepted: unknown[] = [];
    await this.inner.gather(subject, this.seal("msg", subject, id, payload), {
      windowMs: options.windowMs,
      until: (reply) => {
        const opened = this.open("reply", subject, reply, id);
        if ("reason" in opened) {
          this.reject(subject, opened.reason);
          return false;
        }
        accepted.push(opened.payload);
        return (
          options.until?.(opened.payload) === true ||
          (options.expected !== undefined && options.expected > 0 && accepted.length >= options.expected)
        );
      },
    });
    return accepted;
  }

  subscribe(subject: string, handler: BusHandler): () => void {
    const seen = new SeenIds(2 * this.maxAgeMs);
    return this.inner.subscribe(subject, async (message, actualSubject) => {
      const opened = this.open("msg", actualSubject, message);
      if ("reason" in opened) return this.reject(actualSubject, opened.reason);
      if (!seen.add(opened.id, Date.now())) return this.reject(actualSubject, "replayed");
      const result = await handler(opened.payload, actualSubject);
      return result === undefined ? undefined : this.seal("reply", actualSubject, opened.id, result);
    });
  }

  onStatus(listener: (status: BusStatus) => void): () => void {
    return this.inner.onStatus(listener);
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}
