// POST/GET /users, POST /users/:username/disable, POST /users/:username/password.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { type User } from "@signet/shared/db";
import { createUser, listUsers, recordAudit } from "@signet/shared/repos";
import type { RegistryDeps } from "../deps.js";
import { disableUserEverywhere, resetPasswordEverywhere } from "../revocation.js";
import { CreateUserBody, PasswordBody, UserChanged, UserView, UsernameParams, errors } from "../schemas.js";

const tags = ["users"];

const userView = (u: User) => ({
  id: u.id,
  username: u.username,
  display_name: u.display_name,
  status: u.status,
  created_at: u.created_at.toISOString(),
});

export const userRoutes: FastifyPluginAsyncTypebox<{ deps: RegistryDeps }> = async (app, { deps }) => {
  const { db, announcer } = deps;

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
      const user = await db.transaction().execute(async (trx) => {
        const created = await createUser(trx, request.body);
        await recordAudit(trx, {
          actor: request.actor,
          action: "user.create",
          target: created.username,
          details: { user_id: created.id },
        });
        return created;
      });
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
    async () => ({ users: (await listUsers(db)).map(userView) }),
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
      disableUserEverywhere(announcer, { username: request.params.username, actor: request.actor }),
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
      resetPasswordEverywhere(announcer, {
        username: request.params.username,
        password: request.body.password,
        actor: request.actor,
      }),
  );
};
