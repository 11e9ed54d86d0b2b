// The `rate-limit` plugin: the throttle every data pod shares (docs/api.md, "Login rate
// limits"), budgets kept in PostgreSQL (@signet/shared/repos, throttle.ts), so N pods give
// no more attempts than one and no filler traffic makes a counter be forgotten. Decorates
// `app.throttle`:
//  - clientAddress(request, client_ip): the address an attempt counts against — `client_ip`
//    only from a consumer holding the `client-address` scope (ignored from any other), else
//    the request's own address (TRUST_PROXY aware); IPv4-mapped IPv6 as IPv4, other IPv6
//    as its /64 (one subscriber's whole prefix is one address);
//  - take(budgets): one attempt from every budget, or 429 rate_limited with Retry-After
//    (taking none); returns the function that gives the attempt back.
// Purges expired rows every window; counts refusals in signet_throttle_refusals_total.
import { isIPv4, isIPv6 } from "node:net";
import fp from "fastify-plugin";
import type { FastifyRequest } from "fastify";
import { Counter } from "prom-client";
import { ApiError, invalidInput } from "@signet/shared/http";
import { purgeThrottle, releaseThrottle, takeThrottle, type ThrottleBudget } from "@signet/shared/repos";
import { holdsScopes } from "./oauth.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The shared throttle (the rate-limit plugin). */
    throttle: Throttle;
  }
}

export interface Throttle {
  /** The address `request`'s attempts count against; `claimed` is the body's client_ip. */
  clientAddress(request: FastifyRequest, claimed: string | undefined): string;
  /** One attempt from every budget, or throws 429 rate_limited (taking none); returns the give-back. */
  take(budgets: ThrottleBudget[]): Promise<() => Promise<void>>;
}

/** IPv6 text as its eight 16-bit groups (a zone id dropped); undefined when not IPv6. */
function ipv6Groups(ip: string): number[] | undefined {
  if (!isIPv6(ip)) return undefined;
  let text = ip.toLowerCase().split("%")[0]!;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const parse = (part: string | undefined) => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** The throttle key of an address: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 as its /64. */
export function addressKey(ip: string): string {
  if (isIPv4(ip)) return ip;
  const g = ipv6Groups(ip);
  if (!g) return ip;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255].join(".");
  }
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(":")}::/64`;
}

/**
 * The budgets a password guess draws from — a login (POST /authenticate) or a password change's
 * current password (POST /me/password) alike: per (username, client address) and per client
 * address, in one shared window.
 */
export function passwordGuessBudgets(
  limits: { loginLimitPerUser: number; loginLimitPerAddress: number; loginLimitWindowMs: number },
  username: string,
  address: string,
): ThrottleBudget[] {
  const windowMs = limits.loginLimitWindowMs;
  return [
    { kind: "login-address", key: address, limit: limits.loginLimitPerAddress, windowMs },
    {
      kind: "login-user",
      key: `${username.toLowerCase()}\n${address}`,
      limit: limits.loginLimitPerUser,
      windowMs,
    },
  ];
}

export const rateLimits = fp(
  async (app) => {
    const refusals = new Counter({
      name: "signet_throttle_refusals_total",
      help: "Attempts refused by the shared throttle (429), by the budget that refused",
      labelNames: ["budget"],
      registers: [app.metrics],
    });
    const purged = new Counter({
      name: "signet_throttle_purged_total",
      help: "Expired throttle rows deleted",
      registers: [app.metrics],
    });

    const throttle: Throttle = {
      clientAddress(request, claimed) {
        if (claimed === undefined || !holdsScopes(request.consumer?.scopes ?? [], ["client-address"])) {
          return addressKey(request.ip);
        }
        if (!isIPv4(claimed) && !isIPv6(claimed)) {
          throw invalidInput("client_ip must be an IPv4 or IPv6 address");
        }
        return addressKey(claimed);
      },
      async take(budgets) {
        const result = await takeThrottle(app.db, budgets);
        if (!result.granted) {
          for (const budget of result.refused) refusals.inc({ budget });
          throw new ApiError(429, "rate_limited", "too many attempts, try again later", {
            "retry-after": String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))),
          });
        }
        return () => releaseThrottle(app.db, result.keys, result.stamp);
      },
    };
    app.decorate("throttle", throttle);

    // Every pod purges (a cheap delete of what has expired); the budgets never depend on it.
    const { loginLimitWindowMs } = app.dataConfig;
    const timer = setInterval(() => {
      purgeThrottle(app.db).then(
        (rows) => purged.inc(rows),
        (error: unknown) => app.log.warn({ err: error }, "throttle purge failed"),
      );
    }, loginLimitWindowMs);
    timer.unref();
    app.addHook("onClose", async () => clearInterval(timer));
  },
  { name: "rate-limit", dependencies: ["signet-observability", "db"] },
);
