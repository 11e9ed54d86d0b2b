// What the frontend's two NATS JetStream key-value buckets share (the sessions:
// session-store.ts; the rate-limit counters: rate-limit-counters.ts): opening a bucket,
// created when absent (safe from several replicas at once), a bound on every operation, and
// the error a request gets when the bucket cannot be reached — a friendly 503 page, never a
// guess (docs/api.md, "Session cookie and store").
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";

/** Longest wait for one bucket operation before the request fails with 503. */
const OPERATION_TIMEOUT_MS = 3_000;

/** A bucket cannot be reached: the request gets the 503 page (statusCode is what errorPage reads). */
export class StoreUnavailableError extends Error {
  readonly statusCode = 503;
  constructor(
    readonly code: string,
    cause: unknown,
  ) {
    super(`${code}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "StoreUnavailableError";
  }
}

export function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} timed out after ${OPERATION_TIMEOUT_MS} ms`)),
      OPERATION_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Opens `bucket`, creating it when it does not exist: `ttlMs` is each entry's max age since
 * its last write, `replicas` those of its stream (1 on a single server, 3 on a cluster). No
 * size limit: nothing an attacker writes can push another entry out before its TTL.
 */
export function openBucket(
  nc: NatsConnection,
  options: { bucket: string; ttlMs: number; replicas?: number | undefined; description: string },
): Promise<KV> {
  return new Kvm(nc).create(options.bucket, {
    ttl: options.ttlMs,
    history: 1,
    replicas: options.replicas ?? 1,
    description: options.description,
  });
}
