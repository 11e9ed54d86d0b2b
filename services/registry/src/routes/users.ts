// POST/GET /users, POST /users/:username/disable, POST /users/:username/password
// (docs/api.md, "Admin routes").
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { User } from "@signet/shared/db";
import { listUsers } from "@signet/shared/repos";
import { addUser, disableUserEverywhere, resetPasswordEverywhere } from "../operations/users.js";
import { CreateUserBody, PasswordBody, UserChanged, UserView, UsernameParams, errors } from "../schemas.js";

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
};
