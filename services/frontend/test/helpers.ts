// Test helpers: a real data service (HTTP on 127.0.0.1:0) on the file's own database,
// the frontend's consumer seeded there, frontends listening on 127.0.0.1:0, and a small
// cookie-keeping HTTP client that reads CSRF tokens out of the pages.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { LocalBus, type Bus } from "@signet/shared/bus";
import { type Database } from "@signet/shared/db";
import { createConsumer, createUser } from "@signet/shared/repos";
import { keyring, unique } from "@signet/test-support/keys";
import { buildDataApp } from "@signet/data";
import { dataConfigDefaults, type DataConfig } from "@signet/data/config";
import { buildFrontendApp, type BuildFrontendAppOptions } from "../src/app.js";
import { frontendConfigDefaults, type FrontendConfig } from "../src/config.js";

export const SESSION_SECRET = "a-test-session-secret-of-at-least-32-characters";

export const uniqueBucket = (label: string) => `signet-test-${label}-${randomBytes(4).toString("hex")}`;

export function urlOf(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

export interface DataStack {
  app: FastifyInstance;
  url: string;
  bus: Bus;
  consumer: { key: string; secret: string };
  close(): Promise<void>;
}

/** The real data service over HTTP, with the frontend's consumer seeded in its database. */
export async function startData(
  db: Kysely<Database>,
  options: { bus?: Bus; config?: Partial<DataConfig>; logger?: boolean | object } = {},
): Promise<DataStack> {
  const bus = options.bus ?? new LocalBus();
  const app = await buildDataApp({
    config: dataConfigDefaults({
      keyring,
      logLevel: "info",
      defaultMetrics: false,
      docs: false,
      noncePurgeIntervalMs: 0,
      podId: unique("pod-"),
      loginLimitPerUser: 1000,
      loginLimitPerAddress: 1000,
      ...options.config,
    }),
    db,
    bus,
    logger: options.logger ?? false,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const key = unique("ck_frontend_");
  const secret = randomBytes(24).toString("base64url");
  await createConsumer(db, keyring, { name: unique("frontend-"), key, secret });
  return {
    app,
    url: urlOf(app),
    bus,
    consumer: { key, secret },
    close: async () => {
      await app.close();
      if (!options.bus) await bus.close();
    },
  };
}

export function frontendConfig(
  data: { url: string; consumer: { key: string; secret: string } },
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

/** A frontend listening on 127.0.0.1:0. */
export async function startFrontend(
  options: BuildFrontendAppOptions,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildFrontendApp({ logger: false, ...options });
  await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, url: urlOf(app) };
}

export async function seedUser(db: Kysely<Database>, password = "correct horse battery") {
  const username = unique("u");
  const user = await createUser(db, { username, password, display_name: `Tester ${username}` });
  return { id: user.id, username, password, display_name: user.display_name };
}

export interface Page {
  status: number;
  headers: Headers;
  body: string;
  location: string | null;
  setCookie: string[];
}

/** A browser-ish HTTP client: keeps one session cookie, never follows redirects. */
export class Agent {
  cookies = new Map<string, string>();
  constructor(public base: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private remember(setCookie: string[]) {
    for (const line of setCookie) {
      const [pair] = line.split(";");
      const at = pair!.indexOf("=");
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(
    method: string,
    path: string,
    form?: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Page> {
    const res = await fetch(this.base + path, {
      method,
      redirect: "manual",
      headers: {
        ...(this.cookies.size ? { cookie: this.cookieHeader() } : {}),
        ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        ...headers,
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    const setCookie = res.headers.getSetCookie();
    this.remember(setCookie);
    return {
      status: res.status,
      headers: res.headers,
      body: await res.text(),
      location: res.headers.get("location"),
      setCookie,
    };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request("GET", path, undefined, headers);
  }

  post(path: string, form: Record<string, string>, headers?: Record<string, string>) {
    return this.request("POST", path, form, headers);
  }

  /** Loads `pagePath`, then posts `form` to `action` with the page's CSRF token. */
  async submit(pagePath: string, action: string, form: Record<string, string>): Promise<Page> {
    const page = await this.get(pagePath);
    return this.post(action, { _csrf: csrfOf(page.body), ...form });
  }

  async login(username: string, password: string): Promise<Page> {
    return this.submit("/login", "/login", { username, password, next: "/" });
  }
}

export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error("no CSRF token in the page");
  return match[1]!;
}
