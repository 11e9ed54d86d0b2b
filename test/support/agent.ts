// A browser-ish HTTP client for the frontend: keeps its cookies, never follows redirects,
// reads CSRF tokens out of the pages and fills the forms (the frontend's tests, `npm start`'s
// smoke test, bench/services.ts).
export interface Page {
  status: number;
  headers: Headers;
  body: string;
  location: string | null;
  setCookie: string[];
}

/** Keeps the cookies the server sets (dropping expired ones) and sends them back; never follows redirects. */
export class Agent {
  cookies = new Map<string, string>();
  constructor(public base: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private remember(setCookie: string[]) {
    for (const line of setCookie) {
      const [pair] = line.split(";");
      const at = pair!.indexOf("=");
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(
    method: string,
    path: string,
    form?: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Page> {
    const res = await fetch(this.base + path, {
      method,
      redirect: "manual",
      headers: {
        ...(this.cookies.size ? { cookie: this.cookieHeader() } : {}),
        ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        ...headers,
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    const setCookie = res.headers.getSetCookie();
    this.remember(setCookie);
    return {
      status: res.status,
      headers: res.headers,
      body: await res.text(),
      location: res.headers.get("location"),
      setCookie,
    };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request("GET", path, undefined, headers);
  }

  post(path: string, form: Record<string, string>, headers?: Record<string, string>) {
    return this.request("POST", path, form, headers);
  }

  /** Loads `pagePath`, then posts `form` to `action` with the page's CSRF token. */
  async submit(pagePath: string, action: string, form: Record<string, string>): Promise<Page> {
    const page = await this.get(pagePath);
    return this.post(action, { _csrf: csrfOf(page.body), ...form });
  }

  async login(username: string, password: string): Promise<Page> {
    return this.submit("/login", "/login", { username, password, next: "/" });
  }
}

export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error("no CSRF token in the page");
  return match[1]!;
}
