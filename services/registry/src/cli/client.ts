// The admin API over HTTP, with failures mapped to signetctl's exit codes.
import { CliError, EXIT } from "./errors.js";

export interface ClientSettings {
  url: string;
  token: string | undefined;
  timeoutMs?: number;
}

export const DEFAULT_REGISTRY_URL = "http://127.0.0.1:8001";

export class AdminClient {
  private readonly base: URL;

  constructor(private readonly settings: ClientSettings) {
    try {
      this.base = new URL(settings.url);
      if (!/^https?:$/.test(this.base.protocol)) throw new Error("not http");
    } catch {
      throw new CliError(EXIT.usage, `SIGNET_REGISTRY_URL is not an http(s) URL: "${settings.url}"`);
    }
  }

  async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
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
        `cannot reach the registry at ${this.base.origin} (${reason}); check SIGNET_REGISTRY_URL`,
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
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
}
