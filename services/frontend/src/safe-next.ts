// `next` may only send the user back to a path on this site: no scheme, no host, no
// protocol-relative `//evil`, no `/\evil` (browsers read `\` as `/`), no control characters.

const BASE = "http://frontend.invalid";

export function safeNext(candidate: unknown, fallback = "/"): string {
  if (typeof candidate !== "string" || candidate.length === 0 || candidate.length > 2048) return fallback;
  if (!candidate.startsWith("/") || candidate.startsWith("//")) return fallback;
  // backslashes, whitespace and control characters: browsers strip or rewrite them before resolving
  // eslint-disable-next-line no-control-regex
  if (/[\\\s\u0000-\u001f\u007f]/.test(candidate)) return fallback;
  let url: URL;
  try {
    url = new URL(candidate, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  const local = url.pathname + url.search + url.hash;
  // never loop back into the login and sign-up forms
  if (/^\/(login|signup|logout)(\/|$|\?)/.test(local)) return fallback;
  return local;
}

/** /login?next=<path>, keeping the slashes readable (`/login?next=/`). */
export function loginUrl(next: string, reason?: string): string {
  const params: string[] = [];
  if (reason) params.push(`reason=${encodeURIComponent(reason)}`);
  if (next && next !== "/login") params.push(`next=${encodeURIComponent(next).replace(/%2F/gi, "/")}`);
  return params.length ? `/login?${params.join("&")}` : "/login";
}
