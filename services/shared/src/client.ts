// A signed HTTP client for calling the data service (global fetch + OAuth 1.0a).

import { percentEncode } from "./oauth/encoding.js";
import { signRequest } from "./oauth/sign.js";
import type { ClientCredentials, OAuthProblem, SignatureMethod } from "./oauth/types.js";

/** An error answer from a Signet service, or "unavailable" when it could not be reached. */
export class SignetApiError extends Error {
  /** HTTP status (503 for network failures and timeouts). */
  readonly status: number;
  /** The contract's `error` code (`unavailable` for network failures and timeouts). */
  readonly code: string;
  /** `oauth_problem` from WWW-Authenticate, when the service sent one. */
  readonly problem: OAuthProblem | undefined;
  /** The x-request-id of the exchange, when known. */
  readonly requestId: string | undefined;
  /** Retry-After in seconds, when sent (429 / 503). */
  readonly retryAfter: number | undefined;
  constructor(
    status: number,
    code: string,
    message: string,
    extra: {
      problem?: OAuthProblem | undefined;
      requestId?: string | undefined;
      retryAfter?: number | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = "SignetApiError";
    this.status = status;
    this.code = code;
    this.problem = extra.problem;
    this.requestId = extra.requestId;
    this.retryAfter = extra.retryAfter;
  }
}

export type FormValue = string | number | boolean | readonly (string | number | boolean)[];

export interface SignedRequestOptions {
  /** Token credentials for three-legged routes. */
  token?: ClientCredentials | null | undefined;
  /** A JSON body (signed through oauth_body_hash). */
  json?: unknown;
  /** A form body (signed through the base string). */
  form?: Record<string, FormValue | undefined> | URLSearchParams;
  /** Sent as x-request-id. */
  requestId?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Extra headers (never Authorization). */
  headers?: Record<string, string>;
}

export interface SignedClientOptions {
  /** e.g. http://127.0.0.1:8000 (a path prefix is kept). */
  baseUrl: string;
  consumer: ClientCredentials;
  /** Default HMAC-SHA256. */
  signatureMethod?: SignatureMethod;
  /** Per-request timeout; default 10 000 ms. */
  timeoutMs?: number;
  /** Injectable for tests; default globalThis.fetch. */
  fetch?: typeof fetch;
}

export interface SignedClient {
  request<R = unknown>(method: string, path: string, options?: SignedRequestOptions): Promise<R>;
}

const FORM_TYPE = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";

function encodeForm(form: Record<string, FormValue | undefined> | URLSearchParams): string {
  const parts: string[] = [];
  const entries: Iterable<[string, FormValue | undefined]> =
    form instanceof URLSearchParams ? form.entries() : Object.entries(form);
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v : [v as string | number | boolean];
    for (const one of values) parts.push(`${percentEncode(k)}=${percentEncode(String(one))}`);
  }
  return parts.join("&");
}

/** Reads oauth_problem="…" from a WWW-Authenticate value. */
function oauthProblemOf(header: string | null): OAuthProblem | undefined {
  if (!header) return undefined;
  const at = header.indexOf("oauth_problem=");
  if (at < 0) return undefined;
  let i = at + "oauth_problem=".length;
  const quoted = header[i] === '"';
  if (quoted) i++;
  let end = i;
  while (end < header.length && header[end] !== '"' && header[end] !== "," && header[end] !== " ") end++;
  const value = header.slice(i, end);
  return value ? (value as OAuthProblem) : undefined;
}

function retryAfterOf(header: string | null): number | undefined {
  if (!header) return undefined;
  const n = Number(header);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function createSignedClient(options: SignedClientOptions): SignedClient {
  const base = options.baseUrl.endsWith("/") ? options.baseUrl.slice(0, -1) : options.baseUrl;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const signatureMethod = options.signatureMethod ?? "HMAC-SHA256";
  const consumer = { key: options.consumer.key, secret: options.consumer.secret };
  const doFetch = options.fetch ?? globalThis.fetch;

  async function request<R = unknown>(
    method: string,
    path: string,
    opts: SignedRequestOptions = {},
  ): Promise<R> {
    if (opts.json !== undefined && opts.form !== undefined)
      throw new TypeError("pass json or form, not both");
    const url = base + (path.startsWith("/") ? path : "/" + path);
    const verb = method.toUpperCase();
    let body: string | undefined;
    let contentType: string | undefined;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      contentType = JSON_TYPE;
    } else if (opts.form !== undefined) {
      body = encodeForm(opts.form);
      contentType = FORM_TYPE;
    }
    const authorization = signRequest({
      method: verb,
      url,
      consumer,
      token: opts.token ?? undefined,
      signatureMethod,
      body,
      contentType,
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      const lower = k.toLowerCase();
      if (lower !== "authorization" && lower !== "content-type") headers[lower] = v;
    }
    headers.authorization = authorization;
    headers.accept ??= JSON_TYPE;
    if (contentType) headers["content-type"] = contentType;
    if (opts.requestId) headers["x-request-id"] = opts.requestId;

    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await doFetch(url, { method: verb, headers, body, signal });
      text = await res.text();
    } catch (err) {
      // the caller's own abort is not an outage: hand it back as it came
      if (opts.signal?.aborted) throw opts.signal.reason ?? err;
      const why = timeout.aborted
        ? `timed out after ${timeoutMs} ms`
        : err instanceof Error
          ? err.message
          : String(err);
      throw new SignetApiError(503, "unavailable", `${verb} ${url}: ${why}`, {
        requestId: opts.requestId,
        cause: err,
      });
    }
    const requestId = res.headers.get("x-request-id") ?? opts.requestId;

    if (!res.ok) {
      let code = `http_${res.status}`;
      let message = res.statusText || `HTTP ${res.status}`;
      try {
        const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
        if (parsed && typeof parsed.error === "string") code = parsed.error;
        if (parsed && typeof parsed.message === "string") message = parsed.message;
      } catch {
        // not JSON: keep the status-derived code
      }
      throw new SignetApiError(res.status, code, message, {
        problem: oauthProblemOf(res.headers.get("www-authenticate")),
        requestId,
        retryAfter: retryAfterOf(res.headers.get("retry-after")),
      });
    }
    if (res.status === 204 || text.length === 0) return undefined as R;
    try {
      return JSON.parse(text) as R;
    } catch (err) {
      throw new SignetApiError(502, "bad_gateway", `${verb} ${url}: response is not JSON`, {
        requestId,
        cause: err,
      });
    }
  }

  return { request };
}
