// The data app the HTTP benchmark loads, in a process of its own so the load generator
// (and its signing) does not share the server's event loop. Started by bench/http.ts:
//   node --conditions=@signet/source --import tsx bench/http-server.ts
// Environment: BENCH_DATABASE_URL (migrated), SIGNET_MASTER_KEY, BENCH_JWT_SECRET, BENCH_USER (JSON).
// Prints one JSON line {"url": …} once listening; closes on SIGTERM.
import { Keyring } from "@signet/shared/crypto";
import fastifyJwt from "@fastify/jwt";
import { createDb } from "@signet/shared/db";
import type { AuthUser } from "@signet/data/plugins/credentials";
import { startDataPod } from "@signet/test-support/pods";

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
// a data pod on the benchmark's pool, with an in-process bus of its own
const pod = await startDataPod({
  id: "bench-http",
  db,
  config: {
    keyring: Keyring.fromEnv(env("SIGNET_MASTER_KEY")),
    // raised so the login run measures argon2id, not the limiter (production: 10 per user, 100 per address a minute)
    loginLimitPerUser: 1_000_000_000,
    loginLimitPerAddress: 1_000_000_000,
  },
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
process.stdout.write(`${JSON.stringify({ url: pod.url })}\n`);

process.once("SIGTERM", () => {
  void (async () => {
    await pod.close();
    await db.destroy();
    process.exit(0);
  })();
});
