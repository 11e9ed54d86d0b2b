// The event bus: NATS in production, an in-process emitter under `npm start`.
// Events only make pods forget what they cached; PostgreSQL stays the source of truth.
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";

// The subject list lives with the payloads (events.ts); re-exported here for older imports.
export { SUBJECTS, type Subject } from "./events.js";

/** Handles one event; a returned value (not undefined) is sent back as the reply when the sender asked for one. */
export type BusHandler = (payload: unknown, subject: string) => unknown | Promise<unknown>;
export type BusStatus = "disconnected" | "reconnected";

export interface GatherOptions {
  /** How long to collect replies, in milliseconds. */
  windowMs: number;
  /** Stop as soon as this many replies arrived. */
  expected?: number;
  /**
   * Called with each reply as it arrives, in order; returning true ends the gathering
   * at once (the registry stops when every data pod it knows has confirmed).
   */
  until?: (reply: unknown) => boolean;
}

export interface Bus {
  /** True while events are being delivered (a NATS connection is up). */
  isConnected(): boolean;
  /** Publishes and waits until the server has the message. Throws when it cannot. */
  publish(subject: string, payload: unknown): Promise<void>;
  /** Publishes and collects the subscribers' replies for a bounded window. */
  gather(subject: string, payload: unknown, options: GatherOptions): Promise<unknown[]>;
  subscribe(subject: string, handler: BusHandler): () => void;
  /** Connection changes; an in-process bus never reports any. */
  onStatus(listener: (status: BusStatus) => void): () => void;
  close(): Promise<void>;
}

const encode = (payload: unknown) => new TextEncoder().encode(JSON.stringify(payload));
const decode = (data: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
};

export interface NatsBusOptions {
  /** Comma-separated server list (NATS_URL). */
  servers: string;
  /** Connection name shown by the server, e.g. "signet-data-<host>". */
  name: string;
  /** Called when a handler throws; the event is otherwise dropped. */
  onHandlerError?: (error: unknown, subject: string) => void;
  /** Credentials, when the server requires them: user and password, or a `.creds` file. */
  auth?: NatsAuth | undefined;
}

/** NATS_USER/NATS_PASSWORD, or NATS_CREDS (a .creds file); none: an open server. */
export interface NatsAuth {
  user?: string | undefined;
  password?: string | undefined;
  credsFile?: string | undefined;
}

function authOptions(auth: NatsAuth | undefined) {
  if (auth?.credsFile) return { authenticator: credsAuthenticator(readFileSync(auth.credsFile)) };
  if (auth?.user) return { user: auth.user, pass: auth.password ?? "" };
  return {};
}

export class NatsBus implements Bus {
  private connected = true;
  private readonly statusListeners = new Set<(status: BusStatus) => void>();

  private constructor(
    readonly nc: NatsConnection,
    private readonly options: NatsBusOptions,
  ) {
    void this.watchStatus();
  }

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const nc = await connect({
      servers: options.servers
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      name: options.name,
      ...authOptions(options.auth),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 5_000,
      maxPingOut: 2,
    });
    return new NatsBus(nc, options);
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === "disconnect" && this.connected) {
        this.connected = false;
        this.emit("disconnected");
      } else if (status.type === "reconnect") {
        this.connected = true;
        this.emit("reconnected");
      }
    }
  }

  private emit(status: BusStatus): void {
    for (const listener of this.statusListeners) listener(status);
  }

  isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  async publish(subject: string, payload: unknown): Promise<void> {
    if (!this.isConnected()) throw new Error("NATS is not connected");
    this.nc.publish(subject, encode(payload));
    await this.nc.flush();
  }

  async gather(
    subject: string,
    payload: unknown,
    { windowMs, expected, until }: GatherOptions,
  ): Promise<unknown[]> {
    if (!this.isConnected()) throw new Error("NATS is not connected");
    const replies: unknown[] = [];
    // "timer" collects until maxWait; leaving the loop early (break) cancels the request.
    const iterator = await this.nc.requestMany(subject, encode(payload), {
      strategy: "timer",
      maxWait: Math.max(1, windowMs),
    });
    try {
      for await (const msg of iterator) {
        const reply = decode(msg.data);
        replies.push(reply);
        if (until?.(reply) || (expected && replies.length >= expected)) break;
      }
    } catch {
      // "no responders" or a timeout: whatever arrived is the answer.
    }
    return replies;
  }

  subscribe(subject: string, handler: BusHandler): () => void {
    const sub = this.nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error) return;
        void (async () => {
          try {
            const result = await handler(decode(msg.data), msg.subject);
            // A handler that returns nothing (or dropped the message) sends no reply.
            if (msg.reply && result !== undefined) msg.respond(encode(result));
          } catch (handlerError) {
            this.options.onHandlerError?.(handlerError, msg.subject);
          }
        })();
      },
    });
    return () => sub.unsubscribe();
  }

  onStatus(listener: (status: BusStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

/** The in-process bus of `npm start`: every service lives in one process. */
export class LocalBus implements Bus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  isConnected(): boolean {
    return true;
  }

  async publish(subject: string, payload: unknown): Promise<void> {
    await Promise.all(this.deliver(subject, payload));
  }

  async gather(
    subject: string,
    payload: unknown,
    { windowMs, expected, until }: GatherOptions,
  ): Promise<unknown[]> {
    const pending = this.deliver(subject, payload);
    const replies: unknown[] = [];
    if (pending.length === 0) return replies; // as NATS answers "no responders" at once
    return new Promise<unknown[]>((resolve) => {
      let finished = false;
      let left = pending.length;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        resolve(replies);
      };
      const timer = setTimeout(finish, windowMs);
      timer.unref();
      for (const reply of pending) {
        reply
          .then(
            (value) => {
              if (finished || value === undefined) return; // no reply, as over NATS
              replies.push(value);
              if (until?.(value) || (expected && replies.length >= expected)) finish();
            },
            () => {}, // a failed handler sends no reply, as over NATS
          )
          .finally(() => {
            if (--left === 0) finish();
          });
      }
    });
  }

  private deliver(subject: string, payload: unknown): Promise<unknown>[] {
    const copy = JSON.parse(JSON.stringify(payload)) as unknown;
    return this.emitter
      .listeners(subject)
      .map((listener) => new Promise<unknown>((resolve) => resolve((listener as BusHandler)(copy, subject))));
  }

  subscribe(subject: string, handler: BusHandler): () => void {
    this.emitter.on(subject, handler);
    return () => this.emitter.off(subject, handler);
  }

  onStatus(): () => void {
    return () => {};
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}
