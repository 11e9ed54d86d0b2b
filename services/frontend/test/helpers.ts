// The frontend's test set-up: the real data service (HTTP on 127.0.0.1:0, a data pod of
// @signet/test-support) on the file's own database with the frontend's consumer seeded there,
// frontends listening on 127.0.0.1:0 sharing a session bucket and a rate-limit bucket, and NATS for both.
// The browser-ish HTTP client (Agent) is @signet/test-support/agent's.
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll } from "vitest";
import { Kvm } from "@nats-io/kv";
import { NatsBus } from "@signet/shared/bus";
import type { ClientCredentials } from "@signet/shared/oauth";
import type { TestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { unique } from "@signet/test-support/keys";
import { testNatsUrl, type PrivateNats } from "@signet/test-support/nats";
import type { DataPod } from "@signet/test-support/pods";
import { sleep } from "@signet/test-support/wait";
import { buildFrontendApp, type BuildFrontendAppOptions } from "../src/app.js";
import { frontendConfigDefaults, type FrontendConfig } from "../src/config.js";

export const SESSION_SECRET = "a-test-session-secret-of-at-least-32-characters";

/** A session bucket name of the file's own (NATS KV: letters, digits, - and _). */
export const uniqueBucket = (label: string) => unique(`signet-test-${label}-`);

/**
 * Waits, when fewer than `ms` are left in the clock's minute, for the next one: the rate
 * limits count per minute of the clock, so a test counting attempts must not straddle two.
 */
export async function untilWindowLeaves(ms: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await sleep(left + 20);
}

function urlOf(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

export function frontendConfig(
  data: { url: string; consumer: ClientCredentials },
  overrides: Partial<FrontendConfig> = {},
) {
  return frontendConfigDefaults({
    consumerKey: data.consumer.key,
    consumerSecret: data.consumer.secret,
    sessionSecret: SESSION_SECRET,
    dataUrl: data.url,
    logLevel: "silent",
    defaultMetrics: false,
    loginRateLimit: 1000,
    signupRateLimit: 1000,
    ...overrides,
  });
}

export interface Frontend {
  app: FastifyInstance;
  url: string;
}

/** A frontend listening on 127.0.0.1:0. */
export async function startFrontend(options: BuildFrontendAppOptions): Promise<Frontend> {
  const app = await buildFrontendApp({ logger: false, ...options });
  await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, url: urlOf(app) };
}

export interface FrontendStack {
  /** The data service over HTTP (its in-process bus: data.bus), and the frontend's consumer. */
  data: DataPod & { consumer: ClientCredentials };
  /** The frontends' NATS connection, on the shared server (none with `nats`). */
  bus: NatsBus;
  /** The session bucket of the stack's frontends. */
  bucket: string;
  /** The rate-limit bucket of the stack's frontends (their counters are shared, as in production). */
  limitsBucket: string;
  /** The stack's frontend. */
  front: Frontend;
  /** Another frontend on the same data service, NATS and bucket, `overrides` on top; the test closes it. */
  startFrontend(overrides?: Partial<FrontendConfig>): Promise<Frontend>;
  /** A session bucket (the stack's by default) through `bus`. */
  kv(bucket?: string): ReturnType<Kvm["open"]>;
}

/**
 * The data service and a frontend for a test file, started before its tests, stopped after
 * them (the session bucket destroyed). Sessions live on the shared NATS through one connection
 * the frontends share, or on `nats`, a nats-server of the file's own (usePrivateNats) that the
 * test may stop, each frontend connecting itself. `data`, `front` and `bucket` are filled in
 * before the first test, so they may be taken apart at once.
 */
export function useFrontendStack(
  tdb: TestDatabase,
  options: { label: string; nats?: PrivateNats; dataLogger?: object },
): FrontendStack {
  const { nats } = options;
  const { pod, consumer } = useDataPod(tdb, {
    ...(options.dataLogger ? { logger: options.dataLogger } : {}),
    config: { loginLimitPerUser: 1000, loginLimitPerAddress: 1000 },
  });
  const stack = {
    data: {},
    bucket: uniqueBucket(options.label),
    limitsBucket: uniqueBucket(`${options.label}-limits`),
    front: {},
    startFrontend: (overrides = {}) =>
      startFrontend({
        config: frontendConfig(stack.data, {
          sessionBucket: stack.bucket,
          rateLimitBucket: stack.limitsBucket,
          ...(nats ? { natsUrl: nats.url } : {}),
          ...overrides,
        }),
        ...(nats ? {} : { bus: stack.bus }),
      }),
    kv: (bucket = stack.bucket) => new Kvm(stack.bus.nc).open(bucket),
  } as FrontendStack;
  beforeAll(async () => {
    Object.assign(stack.data, pod, { consumer });
    if (!nats)
      stack.bus = await NatsBus.connect({ servers: testNatsUrl(), name: `frontend-${options.label}` });
    Object.assign(stack.front, await stack.startFrontend());
  });
  afterAll(async () => {
    await stack.front.app?.close();
    if (stack.bus) {
      await (await stack.kv()).destroy();
      await (await stack.kv(stack.limitsBucket)).destroy();
      await stack.bus.close();
    }
  });
  return stack;
}
