// Signed requests for tests and benchmarks: the same signer production clients use
// (@signet/shared/oauth), sent through app.inject or over HTTP.
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { signRequest, type ClientCredentials, type SignatureMethod } from "@signet/shared/oauth";

export interface SignedOptions {
  method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT";
  /** The path and query, e.g. "/notes?limit=5". */
  url: string;
  consumer: ClientCredentials;
  token?: ClientCredentials | null;
  /** An object is sent as JSON; a string/Buffer as is (with contentType). */
  json?: unknown;
  form?: Record<string, string>;
  body?: string | Buffer;
  contentType?: string;
  signatureMethod?: SignatureMethod;
  nonce?: string;
  timestamp?: number;
  headers?: Record<string, string>;
  /** The origin the client signs against (default http://localhost, what app.inject sends). */
  origin?: string;
}

/** The request as method, url, headers and payload: what app.inject and fetch both take. */
export function signedRequest(options: SignedOptions) {
  let payload: string | Buffer | undefined;
  let contentType = options.contentType;
  if (options.json !== undefined) {
    payload = JSON.stringify(options.json);
    contentType ??= "application/json";
  } else if (options.form) {
    payload = new URLSearchParams(options.form).toString();
    contentType ??= "application/x-www-form-urlencoded";
  } else if (options.body !== undefined) {
    payload = options.body;
  }
  const authorization = signRequest({
    method: options.method,
    url: `${options.origin ?? "http://localhost"}${options.url}`,
    consumer: options.consumer,
    token: options.token ?? null,
    body: payload,
    contentType,
    ...(options.signatureMethod ? { signatureMethod: options.signatureMethod } : {}),
    ...(options.nonce ? { nonce: options.nonce } : {}),
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });
  const headers: Record<string, string> = {
    authorization,
    ...(contentType ? { "content-type": contentType } : {}),
    ...options.headers,
  };
  return { method: options.method, url: options.url, headers, ...(payload !== undefined ? { payload } : {}) };
}

export function signedInject(app: FastifyInstance, options: SignedOptions): Promise<LightMyRequestResponse> {
  return app.inject(signedRequest(options));
}

/** The oauth_problem of a WWW-Authenticate header, if any. */
export const problemOf = (wwwAuthenticate: string | null | undefined): string | undefined =>
  /oauth_problem="([a-z_]+)"/.exec(wwwAuthenticate ?? "")?.[1];

export interface Answer {
  status: number;
  problem: string | undefined;
  body: string;
  /** performance.now() just before the request was sent. */
  sentAt: number;
}

/** One signed request over HTTP to `baseUrl` (signed against that origin). */
export async function signedFetch(
  baseUrl: string,
  options: Omit<SignedOptions, "origin">,
  timeoutMs = 10_000,
): Promise<Answer> {
  const request = signedRequest({ ...options, origin: baseUrl });
  const sentAt = performance.now();
  const res = await fetch(`${baseUrl}${request.url}`, {
    method: request.method,
    headers: request.headers,
    ...(request.payload !== undefined ? { body: request.payload } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await res.text();
  return { status: res.status, problem: problemOf(res.headers.get("www-authenticate")), body, sentAt };
}
