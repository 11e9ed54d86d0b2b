// The admin API over HTTP, with failures mapped to signetctl's exit codes.
import { CliError, EXIT } from "./errors.js";

export interface ClientSettings {
  url: string;
  /** Where `url` came from, named in every error about it (default SIGNET_REGISTRY_URL). */
  urlFrom?: "--url" | "SIGNET_REGISTRY_URL" | "the default";
  token: string | undefined;
  timeoutMs?: number;
}

export const DEFAULT_REGISTRY_URL = "http://127.0.0.1:8001";

export class AdminClient {
  private readonly base: URL;
  /** "--url" or "SIGNET_REGISTRY_URL": what the operator should check. */
  private readonly urlFrom: string;

  constructor(private readonly settings: ClientSettings) {
    this.urlFrom = settings.urlFrom === "--url" ? "--url" : "SIGNET_REGISTRY_URL";
    try {
      this.base = new URL(settings.url);
      if (!/^https?:$/.test(this.base.protocol)) throw new Error("not http");
    } catch {
      throw new CliError(
        EXIT.usage,
        `${this.urlFrom} is not an http(s) URL: "${settings.url}" (the registry, e.g. ${DEFAULT_REGISTRY_URL})`,
      );
    }
  }

  async request<T>(method: "GET" | "POST" | "PATCH", path: string, body?: unknown): Promise<T> {
    if (!this.settings.token) {
      throw new CliError(
        EXIT.auth,
        "SIGNET_ADMIN_TOKEN is not set: export the admin token you were given (SIGNET_ADMIN_TOKENS on the registry)",
      );
    }
    const url = new URL(
      path.replace(/^\//, ""),
      this.base.href.endsWith("/") ? this.base.href : `${this.base.href}/`,
    );
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.settings.token}`,
          accept: "application/json",
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.settings.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason =
        (error as Error).name === "TimeoutError"
          ? `no answer within ${(this.settings.timeoutMs ?? 30_000) / 1000} s`
          : (cause?.code ?? cause?.message ?? (error as Error).message);
      throw new CliError(
        EXIT.unreachable,
        `cannot reach the registry at ${this.base.origin} (${reason}); check ${this.urlFrom}`,
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    this.checkIsRegistry(res, text, parsed);
    if (res.status === 401) {
      throw new CliError(
        EXIT.auth,
        "the registry rejected SIGNET_ADMIN_TOKEN (401 unauthorized)",
        "unauthorized",
      );
    }
    if (!res.ok) {
      const err = parsed as { error?: string; message?: string } | undefined;
      const code = err?.error ?? `http_${res.status}`;
      throw new CliError(
        EXIT.api,
        `${err?.message ?? (text.slice(0, 200) || res.statusText)} (${res.status} ${code})`,
        code,
      );
    }
    return parsed as T;
  }

  /**
   * An answer that is not the admin API's (an HTML page, the data service's OAuth refusal, any
   * other non-JSON text) means the URL points elsewhere: say so, never dump the page.
   */
  private checkIsRegistry(res: Response, text: string, parsed: unknown): void {
    const where = `${this.base.origin} (${this.urlFrom})`;
    const hint = `check ${this.urlFrom}: the registry's admin API is on port 8001 (the frontend is on 4444, the data service on 8000)`;
    const type = res.headers.get("content-type") ?? "";
    if (type.includes("html") || /^\s*</.test(text))
      throw new CliError(
        EXIT.unreachable,
        `${where} answered an HTML page (HTTP ${res.status}), not the registry's admin API; ${hint}`,
      );
    if (/^\s*OAuth/i.test(res.headers.get("www-authenticate") ?? ""))
      throw new CliError(
        EXIT.unreachable,
        `${where} answered as the data service (OAuth 1.0a), not the registry; ${hint}`,
      );
    if (text && parsed === undefined)
      throw new CliError(
        EXIT.unreachable,
        `${where} answered HTTP ${res.status} with ${type || "a body"} that is not JSON, not the registry's admin API; ${hint}`,
      );
  }
}
