// Admin API calls over app.inject for the multi-pod tests.
import type { FastifyInstance } from "fastify";
import { auth } from "./helpers.js";

export async function admin<T = Record<string, unknown>>(
  app: FastifyInstance,
  method: "GET" | "POST",
  url: string,
  payload?: object,
): Promise<{ status: number; body: T; answeredAt: number }> {
  const res = await app.inject({ method, url, headers: auth(), ...(payload ? { payload } : {}) });
  const answeredAt = performance.now();
  return { status: res.statusCode, body: res.json() as T, answeredAt };
}
