// The thin entry point of every service: build the app from validated config, listen,
// and on SIGTERM/SIGINT turn readiness false, let in-flight requests finish, close.
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from "fastify";
import type { Kysely } from "kysely";
import type { Bus } from "../bus.js";
import { ConfigError, type ServerConfig } from "../config.js";
import type { Database } from "../db/schema.js";

export interface RunOptions<C extends ServerConfig> {
  name: string;
  loadConfig: () => C;
  build: (config: C) => Promise<FastifyInstance>;
}

export async function runServer<C extends ServerConfig>(options: RunOptions<C>): Promise<void> {
  let config: C;
  try {
    config = options.loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const app = await options.build(config);
  await app.listen({ host: config.host, port: config.port });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down");
    app.markShuttingDown();
    await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
    const timer = setTimeout(() => {
      app.log.error("shutdown timed out, exiting");
      process.exit(1);
    }, 25_000);
    timer.unref();
    try {
      await app.close();
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, "error while shutting down");
      process.exit(1);
    }
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

/** What every service's app plugin takes: its config, and what `npm start` hands in to share. */
export interface AppOptions<C> {
  config: C;
  /** A database the caller owns (`npm start`); not closed by the app. */
  db?: Kysely<Database> | undefined;
  /** A bus the caller owns (`npm start`'s in-process bus); not closed by the app. */
  bus?: Bus | undefined;
}

/**
 * Every service's builder: a Fastify instance with `serverOptions`, the app plugin
 * registered with `options`, ready (not listening). When start-up fails, what the plugins
 * that did load hold is released before the error is thrown.
 */
export async function readyApp<O extends object>(
  serverOptions: FastifyServerOptions,
  app: FastifyPluginAsync<O>,
  options: O,
): Promise<FastifyInstance> {
  const instance = Fastify(serverOptions);
  try {
    await instance.register(app, options);
    await instance.ready();
  } catch (error) {
    await instance.close().catch(() => undefined);
    throw error;
  }
  return instance;
}
