// How one attempt goes over the wire. `request` answers parsed JSON, so it needs no Response:
// it sends through node:http(s) on a keep-alive Agent of the client's own, which allocates
// less than half of what global fetch (undici) does for the same call and spends about a
// third of its CPU (README.md, "Performance"). `fetch` answers a Response, so it keeps global
// fetch (or the injected one), wrapped in the same Answer so that the retries are written once.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** One attempt's answer: status and headers arrived, the body still to read. */
export interface Answer {
  status: number;
  statusText: string;
  /** A header's value (several joined with ", "), or null. */
  header(name: string): string | null;
  /** The body as UTF-8 text; rejects when the answer is cut off or the signal aborts. */
  text(): Promise<string>;
  /** Drops the body (an answer that is retried). */
  discard(): Promise<void>;
}

export interface Attempt {
  method: string;
  headers: Headers;
  body: string | Uint8Array | undefined;
  signal: AbortSignal;
}

export type Send<A extends Answer> = (url: string, attempt: Attempt) => Promise<A>;

/** An Answer over a fetch Response, which it keeps for `fetch`'s caller. */
export interface FetchAnswer extends Answer {
  response: Response;
}

export function fetchTransport(doFetch: typeof fetch): Send<FetchAnswer> {
  return async (url, { method, headers, body, signal }) => {
    const response = await doFetch(url, { method, headers, body, signal });
    return {
      response,
      status: response.status,
      statusText: response.statusText,
      header: (name) => response.headers.get(name),
      text: () => response.text(),
      discard: async () => {
        await response.body?.cancel().catch(() => undefined);
      },
    };
  };
}

function answerOf(res: IncomingMessage): Answer {
  // read from the first chunk on, so the socket goes back to the pool as soon as it is done
  const body = new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
    res.on("close", () => {
      if (!res.complete) reject(new Error("the connection closed before the answer was complete"));
    });
  });
  body.catch(() => undefined); // read by text() or dropped by discard(): never unhandled
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? "",
    header: (name) => {
      const value = res.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
    text: () => body,
    discard: async () => {
      await body.catch(() => undefined);
    },
  };
}

/**
 * node:http(s) with one keep-alive Agent per scheme. An idle connection is closed after 4 s,
 * or 1 s before the server's `Keep-Alive: timeout=` says it will close it (Node's Agent reads
 * that hint only when it has a timeout of its own), so a call rarely meets a connection the
 * server is closing; a GET that does is retried like any failed connection.
 */
export function httpTransport(): Send<Answer> {
  const agents = {
    http: new HttpAgent({ keepAlive: true, timeout: 4_000 }),
    https: new HttpsAgent({ keepAlive: true, timeout: 4_000 }),
  };
  return (url, { method, headers, body, signal }) =>
    new Promise<Answer>((resolve, reject) => {
      const secure = /^https:/i.test(url);
      const options = {
        method,
        headers: Object.fromEntries(headers),
        agent: secure ? agents.https : agents.http,
        signal,
      };
      const req = (secure ? httpsRequest : httpRequest)(url, options, (res) => resolve(answerOf(res)));
      req.on("error", reject);
      req.end(body);
    });
}
