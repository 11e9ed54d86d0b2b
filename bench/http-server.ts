// The data app the HTTP benchmark loads, in a process of its own so the load generator
// (and its signing) does not share the server's event loop. Started by bench/http.ts:
//   node --conditions=@signet/source --import tsx bench/http-server.ts
// Environment: BENCH_DATABASE_URL (migrated), SIGNET_MASTER_KEY, BENCH_JWT_SECRET, BENCH_USER (JSON).
// Prints one JSON line {"url": …} once listening; closes on SIGTERM.
import { Keyring } from "@signet/shared/crypto";
import fastifyJwt from "@fastify/jwt";
import { LocalBus } from "@signet/shared/bus";
import { createDb } from "@signet/shared/db";
import { dataConfigDefaults } from "@signet/data";
import type { AuthUser } from "@signet/data/plugins/credentials";
import { benchDataApp } from "./data-app.js";

declare module "@fastify/jwt" {
  interface FastifyJWT {
    // the data app already declares request.user; the JWT payload lives in request.jwtUser
    user: AuthUser | null;
  }
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const fixedUser = JSON.parse(env("BENCH_USER")) as { id: string; username: string; display_name: string };
const db = createDb(env("BENCH_DATABASE_URL"), { max: 10 });
const bus = new LocalBus();
const app = await benchDataApp({
  config: dataConfigDefaults({
    keyring: Keyring.fromEnv(env("SIGNET_MASTER_KEY")),
    logLevel: "silent",
    defaultMetrics: false,
    docs: false,
    podId: "bench-http",
    // raised so the login run measures argon2id, not the limiter (production: 10 per user, 100 per address a minute)
    loginLimitPerUser: 1_000_000_000,
    loginLimitPerAddress: 1_000_000_000,
  }),
  db,
  bus,
  routes: async (scope) => {
    // GET /me's handler body, answering the same user, without the oauth plugin
    scope.get("/me-unsigned", async () => ({
      id: fixedUser.id,
      username: fixedUser.username,
      display_name: fixedUser.display_name,
    }));
    // …and behind a JWT bearer check (HS256), the alternative most teams pick
    await scope.register(fastifyJwt, { secret: env("BENCH_JWT_SECRET"), decoratorName: "jwtUser" });
    scope.get(
      "/me-jwt",
      {
        onRequest: async (request, reply) => {
          try {
            await request.jwtVerify();
          } catch {
            return reply.code(401).send({ error: "token_rejected", message: "bad bearer token" });
          }
        },
      },
      async () => ({ id: fixedUser.id, username: fixedUser.username, display_name: fixedUser.display_name }),
    );
  },
});
const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${JSON.stringify({ url: address.replace("localhost", "127.0.0.1") })}\n`);

process.once("SIGTERM", () => {
  void (async () => {
    await app.close();
    await bus.close();
    await db.destroy();
    process.exit(0);
  })();
});
