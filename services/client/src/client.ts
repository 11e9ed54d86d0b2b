// A signed client for a Signet data service: every attempt is signed afresh (a new nonce and
// timestamp: the service accepts a nonce once), 503 answers are retried with backoff; `fetch`
// answers the Response, `request` turns answers into JSON or a SignetApiError (a
// SignetClockSkewError, with the skew measured from the answer's Date header, for
// `timestamp_refused`). How an attempt goes over the wire: transport.ts.

import { sign, type Credentials, type SignatureMethod } from "./sign.js";
import { fetchTransport, httpTransport, type Answer, type Send } from "./transport.js";

/** An error answer from a Signet service, or `unavailable` when it could not be reached. */
export class SignetApiError extends Error {
  /** HTTP status (503 for network failures and timeouts). */
  readonly status: number;
  /** The service's `error` code (`unavailable` for network failures and timeouts; `http_<status>` for an answer without one). */
  readonly code: string;
  /** `oauth_problem` from WWW-Authenticate, when the service sent one. */
  readonly problem: string | undefined;
  /** The x-request-id of the exchange, when known. */
  readonly requestId: string | undefined;
  /** Retry-After in seconds, when sent (429 / 503). */
  readonly retryAfter: number | undefined;
  constructor(
    status: number,
    code: string,
    message: string,
    extra: {
      problem?: string | undefined;
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

/** `timestamp_refused`: this machine's clock and the service's disagree by more than its window. */
export class SignetClockSkewError extends SignetApiError {
  /** The service's clock minus ours, in seconds (positive: our clock is behind); undefined without a Date header. */
  readonly skewSeconds: number | undefined;
  constructor(skewSeconds: number | undefined, serverMessage: string, requestId: string | undefined) {
    const measured =
      skewSeconds === undefined
        ? "the answer carried no Date header, so the skew could not be measured"
        : `this machine's clock is ${Math.abs(skewSeconds)} s ${skewSeconds >= 0 ? "behind" : "ahead of"} the service's (measured from its Date header)`;
    super(
      401,
      "timestamp_refused",
      `timestamp_refused: ${measured}; the service accepts oauth_timestamp within its window ` +
        `(SIGNET_TIMESTAMP_WINDOW, default 300 s either side): synchronise this machine's clock (NTP). ` +
        `The service said: ${serverMessage}`,
      { problem: "timestamp_refused", requestId },
    );
    this.name = "SignetClockSkewError";
    this.skewSeconds = skewSeconds;
  }
}

export type FormValue = string | number | boolean | readonly (string | number | boolean)[];

export interface SignetClientOptions {
  /** Where the data service answers, e.g. http://127.0.0.1:8000 (a path prefix is kept). */
  baseUrl: string;
  /** This service's consumer key and secret (from `signetctl consumers create`). */
  consumer: Credentials;
  /**
   * The data service's SIGNET_PUBLIC_URL, when it has one and it differs from `baseUrl`
   * (you call it by an internal address, it verifies against its public one). The
   * signature covers scheme, host and port: they must be the ones the service checks.
   */
  publicUrl?: string | undefined;
  /** Default HMAC-SHA256. */
  signatureMethod?: SignatureMethod;
  /** Per attempt; default 10 000 ms. */
  timeoutMs?: number;
  /** How many times a 503 (or, for GET/HEAD/OPTIONS/PUT/DELETE, a failed connection) is retried; default 2. */
  retries?: number;
  /** The first retry waits about this long, each next one twice as long; default 100 ms. */
  retryDelayMs?: number;
  /** No wait is longer; a Retry-After beyond it ends the retries; default 2 000 ms. */
  maxRetryDelayMs?: number;
  /**
   * Injectable for tests; default globalThis.fetch. `fetch` answers through it; `request`
   * goes over node:http(s) on a keep-alive Agent of its own unless this is given.
   */
  fetch?: typeof fetch;
  /** The clock, in ms since the epoch; injectable for tests; default Date.now. */
  now?: () => number;
}

export interface SignetFetchInit {
  /** Default GET. */
  method?: string;
  /** Extra headers; Authorization is always ours. */
  headers?: Record<string, string> | Headers;
  /** The body as bytes: a URLSearchParams is sent (and signed) as a form. */
  body?: string | Uint8Array | URLSearchParams | undefined;
  /** A JSON body (sent as application/json; signed through oauth_body_hash). */
  json?: unknown;
  /** A user's token, for routes that act for a user. */
  token?: Credentials | null | undefined;
  /** Sent as x-request-id. */
  requestId?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface SignedRequestOptions {
  /** A user's token, for routes that act for a user. */
  token?: Credentials | null | undefined;
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

export interface SignetClient {
  /** A signed fetch: resolves with the service's answer (any status), after retrying 503s. */
  fetch(path: string, init?: SignetFetchInit): Promise<Response>;
  /** A signed call that answers the parsed JSON (undefined for 204) or throws a SignetApiError. */
  request<R = unknown>(method: string, path: string, options?: SignedRequestOptions): Promise<R>;
}

const FORM_TYPE = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";
/** Methods a retry cannot repeat the effect of: retried after a failed connection too. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

/** When each answer's request was signed (ms, for the clock-skew measurement) and its x-request-id. */
const sent = new WeakMap<Response, { at: number; requestId: string | undefined }>();

function formBody(form: Record<string, FormValue | undefined> | URLSearchParams): URLSearchParams {
  if (form instanceof URLSearchParams) return form;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v as string | number | boolean]) params.append(k, String(one));
  }
  return params;
}

/** Reads oauth_problem="…" from a WWW-Authenticate value. */
function oauthProblemOf(header: string | null): string | undefined {
  const match = header ? /oauth_problem="?([a-z_]+)/.exec(header) : null;
  return match ? match[1] : undefined;
}

function retryAfterOf(header: string | null): number | undefined {
  if (!header) return undefined;
  const n = Number(header);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Builds the error a non-2xx answer stands for, from its status, its `{"error","message"}`
 * body and its headers. `text` is the body, when already read.
 */
export async function signetErrorOf(res: Response, text?: string): Promise<SignetApiError> {
  const body = text ?? (await res.text().catch(() => ""));
  const answer = {
    status: res.status,
    statusText: res.statusText,
    header: (n: string) => res.headers.get(n),
  };
  return errorOf(answer, body, sent.get(res));
}

/** signetErrorOf for any answer; `request` is when it was signed and the x-request-id sent. */
function errorOf(
  res: Pick<Answer, "status" | "statusText" | "header">,
  body: string,
  request: { at: number; requestId: string | undefined } | undefined,
): SignetApiError {
  const requestId = res.header("x-request-id") ?? request?.requestId;
  let code = `http_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  const type = res.header("content-type") ?? "";
  if (type.includes("json")) {
    try {
      const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
      if (parsed && typeof parsed.error === "string") code = parsed.error;
      if (parsed && typeof parsed.message === "string") message = parsed.message;
    } catch {
      // not JSON after all: keep the status-derived code
    }
  } else if (type.includes("html")) {
    message = `HTTP ${res.status} with an HTML page, not a Signet answer: is the URL the data service's?`;
  }
  const problem = oauthProblemOf(res.header("www-authenticate"));
  if (problem === "timestamp_refused" || code === "timestamp_refused") {
    const date = Date.parse(res.header("date") ?? "");
    const skew = Number.isNaN(date) || !request ? undefined : Math.round((date - request.at) / 1000);
    return new SignetClockSkewError(skew, message, requestId);
  }
  return new SignetApiError(res.status, code, message, {
    problem,
    requestId,
    retryAfter: retryAfterOf(res.header("retry-after")),
  });
}

export function createSignetClient(options: SignetClientOptions): SignetClient {
  const base = options.baseUrl.replace(/\/+$/, "");
  const baseOrigin = new URL(base).origin; // a malformed base URL fails here, not on the first call
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 2;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 2_000;
  const consumer = { key: options.consumer.key, secret: options.consumer.secret };
  // `fetch` answers a Response, so it goes through fetch; `request` through node:http unless
  // a fetch is injected (transport.ts)
  const viaFetch = fetchTransport(options.fetch ?? globalThis.fetch);
  const viaRequest: Send<Answer> = options.fetch ? viaFetch : httpTransport();
  const now = options.now ?? Date.now;

  /** The wait before retry number `attempt` (0-based): exponential, jittered, capped. */
  const backoff = (attempt: number): number => {
    const ceiling = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  };

  /** Signs and sends `init` to `path`, retrying as the options say; the answer and when it was signed. */
  async function exchange<A extends Answer>(
    send: Send<A>,
    path: string,
    init: SignetFetchInit,
  ): Promise<{ answer: A; sentAt: number }> {
    if (init.json !== undefined && init.body !== undefined)
      throw new TypeError("pass json or body, not both");
    const full = /^https?:\/\//i.test(path);
    // a full URL stays on the base URL's origin: a request signed for the service (for
    // `publicUrl` whatever the address called) must not be handed to another host to replay
    if (full && new URL(path).origin !== baseOrigin)
      throw new TypeError("a full URL must be on the base URL's origin");
    const url = full ? path : base + (path.startsWith("/") ? path : "/" + path);
    const method = (init.method ?? "GET").toUpperCase();
    const headers = new Headers(init.headers);
    headers.delete("authorization");
    if (!headers.has("accept")) headers.set("accept", JSON_TYPE);
    if (init.requestId) headers.set("x-request-id", init.requestId);
    let body: string | Uint8Array | undefined;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers.set("content-type", JSON_TYPE);
    } else if (init.body instanceof URLSearchParams) {
      body = init.body.toString();
      headers.set("content-type", FORM_TYPE);
    } else {
      body = init.body;
      // what fetch would send anyway, said here so the signer sees it too
      if (body !== undefined && !headers.has("content-type"))
        headers.set(
          "content-type",
          typeof body === "string" ? "text/plain;charset=UTF-8" : "application/octet-stream",
        );
    }
    const contentType = headers.get("content-type") ?? undefined;

    for (let attempt = 0; ; attempt++) {
      const sentAt = now();
      // every attempt is a new request: a fresh nonce and timestamp (a nonce is accepted once)
      headers.set(
        "authorization",
        sign({
          method,
          url,
          consumer,
          token: init.token,
          signatureMethod: options.signatureMethod,
          body,
          contentType,
          publicUrl: options.publicUrl,
          timestamp: Math.floor(sentAt / 1000),
        }).authorization,
      );
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      let res: A;
      try {
        res = await send(url, { method, headers, body, signal });
      } catch (err) {
        // the caller's own abort is not an outage: hand it back as it came
        if (init.signal?.aborted) throw init.signal.reason ?? err;
        if (IDEMPOTENT.has(method) && attempt < retries) {
          await sleep(backoff(attempt), init.signal);
          continue;
        }
        const why = timeout.aborted
          ? `timed out after ${timeoutMs} ms`
          : err instanceof Error
            ? err.cause instanceof Error
              ? err.cause.message
              : err.message
            : String(err);
        throw new SignetApiError(503, "unavailable", `${method} ${url}: ${why}`, {
          requestId: init.requestId,
          cause: err,
        });
      }
      // 503: the service refused before acting (database unreachable, or no pod behind
      // the proxy), so every method may be sent again, re-signed
      if (res.status === 503 && attempt < retries) {
        const after = retryAfterOf(res.header("retry-after"));
        if (after === undefined || after * 1000 <= maxRetryDelayMs) {
          await res.discard();
          await sleep(after === undefined ? backoff(attempt) : after * 1000, init.signal);
          continue;
        }
      }
      return { answer: res, sentAt };
    }
  }

  async function signedFetch(path: string, init: SignetFetchInit = {}): Promise<Response> {
    const { answer, sentAt } = await exchange(viaFetch, path, init);
    sent.set(answer.response, { at: sentAt, requestId: init.requestId });
    return answer.response;
  }

  async function request<R = unknown>(
    method: string,
    path: string,
    opts: SignedRequestOptions = {},
  ): Promise<R> {
    if (opts.json !== undefined && opts.form !== undefined)
      throw new TypeError("pass json or form, not both");
    const { answer: res, sentAt } = await exchange(viaRequest, path, {
      method,
      headers: opts.headers,
      json: opts.json,
      body: opts.form === undefined ? undefined : formBody(opts.form),
      token: opts.token,
      requestId: opts.requestId,
      signal: opts.signal,
    });
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? err;
      throw new SignetApiError(
        503,
        "unavailable",
        `${method.toUpperCase()} ${path}: the answer was cut off`,
        {
          requestId: opts.requestId,
          cause: err,
        },
      );
    }
    if (res.status < 200 || res.status > 299)
      throw errorOf(res, text, { at: sentAt, requestId: opts.requestId });
    if (res.status === 204 || text.length === 0) return undefined as R;
    try {
      return JSON.parse(text) as R;
    } catch (err) {
      throw new SignetApiError(
        502,
        "bad_gateway",
        `${method.toUpperCase()} ${path}: the answer is not JSON`,
        {
          requestId: res.header("x-request-id") ?? opts.requestId,
          cause: err,
        },
      );
    }
  }

  return { fetch: signedFetch, request };
}
