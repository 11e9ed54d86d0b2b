// The frontend's calls to the data service, all through the shared signed client (OAuth 1.0a
// with the frontend's consumer, plus the user's token where one is needed; docs/api.md,
// "Signing requests"), each forwarding the browser request's id. Decorates app.dataClient.
import fp from "fastify-plugin";
import { createSignedClient, type SignedClient } from "@signet/shared/client";

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

export interface TokenCredentials {
  key: string;
  secret: string;
}

export class DataClient {
  private readonly client: SignedClient;

  constructor(options: { baseUrl: string; consumerKey: string; consumerSecret: string; timeoutMs: number }) {
    this.client = createSignedClient({
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
