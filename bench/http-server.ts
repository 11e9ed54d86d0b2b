// The data app the HTTP benchmark loads, in a process of its own so the load generator
// (and its signing) does not share the server's event loop. Started by bench/http.ts:
//   node --conditions=@signet/source --import tsx bench/http-server.ts
// Environment: BENCH_DATABASE_URL (migrated), SIGNET_MASTER_KEY, BENCH_JWT_SECRET, BENCH_USER (JSON),
// and optionally BENCH_VARIANT_DATABASES (JSON {name: url}): one more data pod per entry, each on
// its own database, for the nonce store A/B in the same run — "legacy" (the previous release's
// store, bench/legacy-nonce-store.ts), "logged" (this release's store on logged partitions).
// Prints one JSON line {"url": …, "variants": {name: url}} once listening; closes on SIGTERM.
// With BENCH_CPU_PROFILE=<file> (bench/profile-signed.ts): a V8 CPU profile of this process
// from SIGUSR2 (sent once the load is warm) to SIGTERM, written to that file — the load
// alone, without start-up and warm-up.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { Keyring } from "@signet/shared/crypto";
import fastifyJwt from "@fastify/jwt";
import { createDb } from "@signet/shared/db";
import type { AuthUser } from "@signet/data/plugins/credentials";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { LegacyNonceStore } from "./legacy-nonce-store.js";

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
    // as in production: the nonce store opens its claim connections to the URL
    databaseUrl: env("BENCH_DATABASE_URL"),
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

const keyring = Keyring.fromEnv(env("SIGNET_MASTER_KEY"));
const variantDbs = JSON.parse(process.env.BENCH_VARIANT_DATABASES ?? "{}") as Record<string, string>;
const variants: { name: string; pod: DataPod; db: typeof db }[] = [];
for (const [name, url] of Object.entries(variantDbs)) {
  const variantDb = createDb(url, { max: 10 });
  const config = { keyring, databaseUrl: url, ...(name === "logged" ? { nonceUnlogged: false } : {}) };
  const nonces =
    name === "legacy"
      ? new LegacyNonceStore(variantDb, {
          timestampWindow: 300,
          maxInFlight: pod.app.dataConfig.nonceMaxInFlight,
        })
      : undefined;
  variants.push({
    name,
    db: variantDb,
    pod: await startDataPod({
      id: `bench-http-${name}`,
      db: variantDb,
      config,
      ...(nonces ? { nonces } : {}),
    }),
  });
}
process.stdout.write(
  `${JSON.stringify({ url: pod.url, variants: Object.fromEntries(variants.map((v) => [v.name, v.pod.url])) })}\n`,
);

const profileFile = process.env.BENCH_CPU_PROFILE;
const profiler = profileFile ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post("Profiler.enable");
  process.once("SIGUSR2", () => void profiler.post("Profiler.start"));
}

process.once("SIGTERM", () => {
  void (async () => {
    if (profiler && profileFile) {
      const { profile } = await profiler.post("Profiler.stop").catch(() => ({ profile: undefined }));
      if (profile) writeFileSync(profileFile, JSON.stringify(profile));
    }
    for (const v of variants) {
      await v.pod.close();
      await v.db.destroy();
    }
    await pod.close();
    await db.destroy();
    process.exit(0);
  })();
});
