// The frontend's calls to the data service, all through @signet/client, the package every
// other service uses too (OAuth 1.0a with the frontend's consumer, plus the user's token
// where one is needed; 503s retried, re-signed; docs/calling-signet.md), each forwarding the
// browser request's id. Decorates app.dataClient.
import fp from "fastify-plugin";
import { createSignetClient, type SignetClient } from "@signet/client";

declare module "fastify" {
  interface FastifyInstance {
    /** The signed client to the data service (the data-client plugin). */
    dataClient: DataClient;
  }
}

export interface DataUser {
  id: string;
  username: string;
  display_name: string;
}

export interface LoginResult {
  token: string;
  secret: string;
  expires_at: string;
  user: DataUser;
}

export interface Note {
  id: string;
  title: string;
  body: string;
  created_at: string;
  updated_at: string;
}

/** One page of notes (GET /notes): `next` and `prev` are the data service's opaque cursors. */
export interface NotePage {
  notes: Note[];
  next: string | null;
  prev: string | null;
}

export interface NotePageQuery {
  limit?: number | undefined;
  before?: string | undefined;
  after?: string | undefined;
  q?: string | undefined;
}

export interface TokenCredentials {
  key: string;
  secret: string;
}

export class DataClient {
  private readonly client: SignetClient;

  constructor(options: { baseUrl: string; consumerKey: string; consumerSecret: string; timeoutMs: number }) {
    this.client = createSignetClient({
      baseUrl: options.baseUrl,
      consumer: { key: options.consumerKey, secret: options.consumerSecret },
      timeoutMs: options.timeoutMs,
    });
  }

  authenticate(
    input: { username: string; password: string; clientIp: string },
    requestId: string,
  ): Promise<LoginResult> {
    return this.client.request<LoginResult>("POST", "/authenticate", {
      form: { username: input.username, password: input.password, client_ip: input.clientIp.slice(0, 64) },
      requestId,
    });
  }

  signUp(
    input: { username: string; password: string; display_name: string; clientIp: string },
    requestId: string,
  ): Promise<DataUser> {
    const { clientIp, ...user } = input;
    return this.client.request<DataUser>("POST", "/users", {
      json: { ...user, client_ip: clientIp.slice(0, 64) },
      requestId,
    });
  }

  /** The newest page of notes (GET /notes' default size); notesPage reads any page. */
  async listNotes(token: TokenCredentials, requestId: string): Promise<Note[]> {
    const answer = await this.client.request<{ notes: Note[] }>("GET", "/notes", { token, requestId });
    return answer.notes;
  }

  createNote(
    token: TokenCredentials,
    note: { title: string; body: string },
    requestId: string,
  ): Promise<Note> {
    return this.client.request<Note>("POST", "/notes", { token, json: note, requestId });
  }

  async deleteNote(token: TokenCredentials, id: string, requestId: string): Promise<void> {
    await this.client.request("DELETE", `/notes/${encodeURIComponent(id)}`, { token, requestId });
  }

  notesPage(token: TokenCredentials, query: NotePageQuery, requestId: string): Promise<NotePage> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== "") params.set(name, String(value));
    }
    const search = params.size > 0 ? `?${params.toString()}` : "";
    return this.client.request<NotePage>("GET", `/notes${search}`, { token, requestId });
  }

  getNote(token: TokenCredentials, id: string, requestId: string): Promise<Note> {
    return this.client.request<Note>("GET", `/notes/${encodeURIComponent(id)}`, { token, requestId });
  }

  updateNote(
    token: TokenCredentials,
    id: string,
    change: { title: string; body: string },
    requestId: string,
  ): Promise<Note> {
    return this.client.request<Note>("PATCH", `/notes/${encodeURIComponent(id)}`, {
      token,
      json: change,
      requestId,
    });
  }

  me(token: TokenCredentials, requestId: string): Promise<DataUser> {
    return this.client.request<DataUser>("GET", "/me", { token, requestId });
  }

  updateProfile(token: TokenCredentials, displayName: string, requestId: string): Promise<DataUser> {
    return this.client.request<DataUser>("PATCH", "/me", {
      token,
      json: { display_name: displayName },
      requestId,
    });
  }

  /** Every other token of the user dies; this one stays (POST /me/password). */
  async changePassword(
    token: TokenCredentials,
    input: { current: string; next: string; clientIp: string },
    requestId: string,
  ): Promise<void> {
    await this.client.request("POST", "/me/password", {
      token,
      json: {
        current_password: input.current,
        new_password: input.next,
        client_ip: input.clientIp.slice(0, 64),
      },
      requestId,
    });
  }

  /** Every token of the user, this one included (POST /logout {"everywhere": true}). */
  async logoutEverywhere(token: TokenCredentials, requestId: string): Promise<void> {
    await this.client.request("POST", "/logout", { token, json: { everywhere: true }, requestId });
  }

  async logout(token: TokenCredentials, requestId: string): Promise<void> {
    await this.client.request("POST", "/logout", { token, requestId });
  }
}

export const dataClient = fp(
  async (app) => {
    const config = app.frontendConfig;
    app.decorate(
      "dataClient",
      new DataClient({
        baseUrl: config.dataUrl,
        consumerKey: config.consumerKey,
        consumerSecret: config.consumerSecret,
        timeoutMs: config.dataTimeoutMs,
      }),
    );
  },
  { name: "data-client" },
);
