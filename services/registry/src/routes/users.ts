// POST/GET /users, POST /users/:username/disable, /password, /tokens/revoke
// (docs/api.md, "Admin routes").
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { User } from "@signet/shared/db";
import { listUsers } from "@signet/shared/repos";
import { revokeUserTokensEverywhere } from "../operations/lifecycle.js";
import {
  addUser,
  disableUserEverywhere,
  enableUserAgain,
  resetPasswordEverywhere,
} from "../operations/users.js";
import {
  CreateUserBody,
  PasswordBody,
  UserChanged,
  UserTokensRevoked,
  UserView,
  UsernameParams,
  errors,
} from "../schemas.js";

const tags = ["users"];

const userView = (u: User) => ({
  id: u.id,
  username: u.username,
  display_name: u.display_name,
  status: u.status,
  created_at: u.created_at.toISOString(),
});

export const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    "/users",
    {
      schema: {
        tags,
        summary: "Create a user",
        body: CreateUserBody,
        response: { 201: UserView, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const user = await addUser(app.db, { ...request.body, actor: request.actor });
      return reply.code(201).send(userView(user));
    },
  );

  app.get(
    "/users",
    {
      schema: {
        tags,
        summary: "List users (no password hashes)",
        response: { 200: Type.Object({ users: Type.Array(UserView) }), ...errors() },
      },
    },
    async () => ({ users: (await listUsers(app.db)).map(userView) }),
  );

  app.post(
    "/users/:username/disable",
    {
      schema: {
        tags,
        summary: "Disable a user; their tokens die on every data pod",
        params: UsernameParams,
        response: { 200: UserChanged, ...errors(400, 404) },
      },
    },
    async (request) =>
      disableUserEverywhere(app.announcer, { username: request.params.username, actor: request.actor }),
  );

  app.post(
    "/users/:username/enable",
    {
      schema: {
        tags,
        summary: "Let a disabled user log in again (tokens killed by the disable stay dead)",
        params: UsernameParams,
        response: { 200: UserView, ...errors(400, 404) },
      },
    },
    async (request) =>
      userView(await enableUserAgain(app.db, { username: request.params.username, actor: request.actor })),
  );

  app.post(
    "/users/:username/password",
    {
      schema: {
        tags,
        summary: "Set a new password; the user's tokens die on every data pod",
        params: UsernameParams,
        body: PasswordBody,
        response: { 200: UserChanged, ...errors(400, 404) },
      },
    },
    async (request) =>
      resetPasswordEverywhere(app.announcer, {
        username: request.params.username,
        password: request.body.password,
        actor: request.actor,
      }),
  );

  app.post(
    "/users/:username/tokens/revoke",
    {
      schema: {
        tags,
        summary: "Sign a user out everywhere: every token of theirs dies on every data pod",
        params: UsernameParams,
        response: { 200: UserTokensRevoked, ...errors(400, 404) },
      },
    },
    async (request) =>
      revokeUserTokensEverywhere(app.announcer, { username: request.params.username, actor: request.actor }),
  );
};
