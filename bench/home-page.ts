// Benchmark: the signed-in home page (GET /) of a user with 5,000 notes, over HTTP with
// autocannon, through a real frontend and data pod on a fresh PostgreSQL database.
//  - before: the listing the home page had until keyset pages — every note of the user in
//    one answer (the data service's old GET /notes: one query, at most 1000 notes), all of
//    them rendered; served here by the old handler, verbatim, on a bench-only route;
//  - after: today's home page, one keyset page (20 notes) of GET /notes.
// Both are the same frontend code and template; only the data call differs.
// Run alone: node --conditions=@signet/source --import tsx bench/home-page.ts
import { pathToFileURL } from "node:url";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { buildFrontendApp, frontendConfigDefaults } from "@signet/frontend";
import { LocalBus } from "@signet/shared/bus";
import { createSignedClient } from "@signet/shared/client";
import type { ClientCredentials } from "@signet/shared/oauth";
import { listNotes } from "@signet/shared/repos";
import { Agent } from "@signet/test-support/agent";
import { createTestDatabase } from "@signet/test-support/db";
import { startDataPod } from "@signet/test-support/pods";
import { seedCredentials } from "@signet/test-support/seed";
import { cannon, type LoadFigure } from "./support.js";

export interface HomePageFigure extends LoadFigure {
  /** Bytes of HTML one page answer carries. */
  pageBytes: number;
  /** Notes on the page. */
  notesShown: number;
}

export interface HomePageResult {
  notes: number;
  before: HomePageFigure;
  after: HomePageFigure;
  settings: { durationSec: number; connections: number };
}

/** A frontend on 127.0.0.1:0 (sessions in memory), the user signed in; its cookie header. */
async function signedInFrontend(
  dataUrl: string,
  consumer: ClientCredentials,
  user: { username: string; password: string },
  patch?: (app: FastifyInstance) => void,
): Promise<{ app: FastifyInstance; url: string; cookie: string }> {
  const app = await buildFrontendApp({
    config: frontendConfigDefaults({
      consumerKey: consumer.key,
      consumerSecret: consumer.secret,
      sessionSecret: "a-bench-session-secret-of-at-least-32-characters",
      dataUrl,
      logLevel: "silent",
      defaultMetrics: false,
      loginRateLimit: 1000,
    }),
    logger: false,
  });
  patch?.(app);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const agent = new Agent(url);
  const login = await agent.login(user.username, user.password);
  if (login.status !== 303) throw new Error(`bench login failed: ${login.status}`);
  return { app, url, cookie: agent.cookieHeader() };
}

export async function run(
  options: { notes?: number; durationSec?: number; connections?: number } = {},
): Promise<HomePageResult> {
  const notes = options.notes ?? 5_000;
  const durationSec = options.durationSec ?? 3;
  const connections = options.connections ?? 4;
  const database = await createTestDatabase({ prefix: "signet_bench", db: { max: 10 } });
  const bus = new LocalBus();
  const apps: FastifyInstance[] = [];
  try {
    const { consumer, user } = await seedCredentials(database.db);
    await sql`insert into notes (user_id, title, body, created_at, updated_at)
      select ${user.id}, 'Note number ' || g, 'A body of a few words for note ' || g,
             now() - g * interval '1 minute', now() - g * interval '1 minute'
      from generate_series(1, ${notes}) g`.execute(database.db);
    await sql`analyze notes`.execute(database.db);

    const pod = await startDataPod({
      db: database.db,
      bus,
      // the data service's GET /notes before keyset pages, verbatim (repos/notes.ts listNotes)
      routes: (scope) => {
        scope.get(
          "/bench/notes-unpaged",
          { config: { oauth: { token: true, scopes: ["notes:read"] } } },
          async (request) => ({
            notes: (await listNotes(scope.db, request.user!.id)).map((n) => ({
              id: n.id,
              title: n.title,
              body: n.body,
              created_at: n.created_at.toISOString(),
              updated_at: n.updated_at.toISOString(),
            })),
          }),
        );
      },
    });
    apps.push(pod.app);

    const after = await signedInFrontend(pod.url, consumer, user);
    apps.push(after.app);
    const oldClient = createSignedClient({ baseUrl: pod.url, consumer, timeoutMs: 10_000 });
    const before = await signedInFrontend(pod.url, consumer, user, (app) => {
      // the home page's data call as it was: every note in one answer, no cursors
      app.dataClient.notesPage = async (token, _query, requestId) => ({
        ...(await oldClient.request<{ notes: [] }>("GET", "/bench/notes-unpaged", { token, requestId })),
        next: null,
        prev: null,
      });
    });
    apps.push(before.app);

    const measure = async (
      name: string,
      target: { url: string; cookie: string },
    ): Promise<HomePageFigure> => {
      const probe = await fetch(`${target.url}/`, { headers: { cookie: target.cookie } });
      const html = await probe.text();
      if (probe.status !== 200) throw new Error(`${name}: GET / answered ${probe.status}`);
      const shown = html.match(/<article class="note">/g)?.length ?? 0;
      const options = { url: `${target.url}/`, connections, headers: { cookie: target.cookie } };
      await cannon(`${name} warm-up`, { ...options, duration: 1 });
      const figure = await cannon(name, { ...options, duration: durationSec });
      return { ...figure, pageBytes: Buffer.byteLength(html), notesShown: shown };
    };
    return {
      notes,
      before: await measure("home page, every note in one answer (before)", before),
      after: await measure("home page, one keyset page (after)", after),
      settings: { durationSec, connections },
    };
  } finally {
    for (const app of apps.reverse()) await app.close();
    await bus.close();
    await database.drop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  console.table(
    [result.before, result.after].map((f) => ({
      variant: f.name,
      "req/s": f.requestsPerSec.toFixed(0),
      "p50 ms": f.p50Ms.toFixed(1),
      "p99 ms": f.p99Ms.toFixed(1),
      "notes shown": f.notesShown,
      "page KiB": (f.pageBytes / 1024).toFixed(0),
      requests: f.requests,
      "non-2xx": f.non2xx,
    })),
  );
  console.log(
    `${result.notes} notes; ${result.settings.connections} connections × ${result.settings.durationSec} s each`,
  );
}
