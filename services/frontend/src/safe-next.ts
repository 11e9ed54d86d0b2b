// `next` may only send the user back to a path on this site: no scheme, no host, no
// protocol-relative `//evil`, no `/\evil` (browsers read `\` as `/`), no control characters.
// The checks run twice: on the value as given, and on what URL normalisation makes of it —
// dot segments (`/.//evil`, `/a/..//evil`, `/%2e//evil`) can collapse a harmless-looking
// path into `//evil`, which a browser resolves to another site.

const BASE = "http://frontend.invalid";
const MAX_LENGTH = 2048;

/** A path a browser resolves on this origin: one leading `/`, no backslash, whitespace or control character. */
function isLocalPath(path: string): boolean {
  // backslashes, whitespace and control characters: browsers strip or rewrite them before resolving
  // eslint-disable-next-line no-control-regex
  return path.startsWith("/") && !path.startsWith("//") && !/[\\\s\u0000-\u001f\u007f]/.test(path);
}

/** The path, query and fragment of `path` resolved on this origin, or undefined when it leaves it. */
function normalise(path: string): string | undefined {
  let url: URL;
  try {
    url = new URL(path, BASE);
  } catch {
    return undefined;
  }
  return url.origin === BASE ? url.pathname + url.search + url.hash : undefined;
}

export function safeNext(candidate: unknown, fallback = "/"): string {
  if (typeof candidate !== "string" || candidate.length === 0 || candidate.length > MAX_LENGTH)
    return fallback;
  if (!isLocalPath(candidate)) return fallback;
  const local = normalise(candidate);
  // after normalisation: still a local path, and one that normalising again leaves as it is
  if (local === undefined || local.length > MAX_LENGTH || !isLocalPath(local) || normalise(local) !== local) {
    return fallback;
  }
  // never loop back into the login and sign-up forms
  if (/^\/(login|signup|logout)(\/|$|\?|#)/.test(local)) return fallback;
  return local;
}

/** /login?next=<path>, keeping the slashes readable (`/login?next=/`). */
export function loginUrl(next: string, reason?: string): string {
  const params: string[] = [];
  if (reason) params.push(`reason=${encodeURIComponent(reason)}`);
  if (next && next !== "/login") params.push(`next=${encodeURIComponent(next).replace(/%2F/gi, "/")}`);
  return params.length ? `/login?${params.join("&")}` : "/login";
}
