// POST/GET /consumers, GET/PATCH /consumers/:key, POST /consumers/:key/rotate,
// /rotate/finish, /tokens/revoke, /revoke (docs/api.md, "Admin routes").
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { ApiError, notFound } from "@signet/shared/http";
import {
  consumerUsage,
  consumerView,
  databaseNow,
  findConsumer,
  listConsumers,
  secretViews,
} from "@signet/shared/repos";
import { addConsumer, revokeConsumerEverywhere, rotateConsumerEverywhere } from "../operations/consumers.js";
import {
  finishRotationEverywhere,
  revokeConsumerTokensEverywhere,
  updateConsumerEverywhere,
} from "../operations/lifecycle.js";
import {
  ConsumerDetail,
  ConsumerKeyParams,
  ConsumerTokensRevoked,
  ConsumerView,
  CreateConsumerBody,
  CreatedConsumer,
  ListConsumersQuery,
  RevokeBody,
  RevokeTokensBody,
  Revoked,
  RotateBody,
  Rotated,
  RotationFinished,
  UpdateConsumerBody,
  UpdatedConsumer,
  errors,
} from "../schemas.js";
import { durationSeconds } from "../durations.js";

/** An ISO 8601 instant from the body (validated as date-time), null, or absent. */
const instant = (value: string | null | undefined): Date | null | undefined =>
  value === undefined || value === null ? value : new Date(value);

const tags = ["consumers"];

export const consumerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { keyring } = app.registryConfig;

  app.post(
    "/consumers",
    {
      schema: {
        tags,
        summary: "Create a consumer; the secret is shown only in this answer",
        description:
          'scopes is required: what the consumer may do on the data service (`["*"]` everything, `[]` nothing; docs/api.md, "Scopes").',
        body: CreateConsumerBody,
        response: { 201: CreatedConsumer, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const created = await addConsumer(app.db, keyring, {
        name: request.body.name,
        scopes: request.body.scopes,
        expires_at: instant(request.body.expires_at) ?? null,
        actor: request.actor,
      });
      const view = consumerView(created.consumer);
      return reply.code(201).send({
        key: view.key,
        secret: created.secret,
        name: view.name,
        scopes: view.scopes,
        status: "active" as const,
        created_at: view.created_at,
        expires_at: view.expires_at,
      });
    },
  );

  app.get(
    "/consumers",
    {
      schema: {
        tags,
        summary: "List consumers (no secrets); expiring_within=7d: the active ones about to lapse",
        querystring: ListConsumersQuery,
        response: { 200: Type.Object({ consumers: Type.Array(ConsumerView) }), ...errors(400) },
      },
    },
    async (request) => {
      // the schema's pattern admits only durations
      const { expiring_within } = request.query;
      const within = expiring_within === undefined ? undefined : durationSeconds(expiring_within);
      const rows = await listConsumers(app.db, within !== undefined ? { expiringWithinSeconds: within } : {});
      const usage = await consumerUsage(
        app.db,
        rows.map((c) => c.key),
      );
      return { consumers: rows.map((c) => consumerView(c, usage.get(c.key))) };
    },
  );

  app.get(
    "/consumers/:key",
    {
      schema: {
        tags,
        summary: "One consumer (no secret), with the last use of each live secret",
        params: ConsumerKeyParams,
        response: { 200: ConsumerDetail, ...errors(400, 404) },
      },
    },
    async (request) => {
      const consumer = await findConsumer(app.db, request.params.key);
      if (!consumer) throw notFound("consumer");
      const usage = (await consumerUsage(app.db, [consumer.key])).get(consumer.key) ?? new Map();
      return {
        ...consumerView(consumer, usage),
        secrets: secretViews(consumer, usage, await databaseNow(app.db)),
      };
    },
  );

  app.patch(
    "/consumers/:key",
    {
      schema: {
        tags,
        summary: "Change scopes and/or expiry; confirmed by the data pods before the answer",
        description:
          "Announces signet.consumer.updated and waits for the pods' confirmations: removed scopes are refused on every pod from this answer on. expires_at null clears the expiry.",
        params: ConsumerKeyParams,
        body: UpdateConsumerBody,
        response: { 200: UpdatedConsumer, ...errors(400, 404, 409) },
      },
    },
    async (request) =>
      updateConsumerEverywhere(app.announcer, {
        key: request.params.key,
        ...(request.body.scopes !== undefined ? { scopes: request.body.scopes } : {}),
        ...(request.body.expires_at !== undefined ? { expires_at: instant(request.body.expires_at) } : {}),
        actor: request.actor,
      }),
  );

  app.post(
    "/consumers/:key/rotate/finish",
    {
      schema: {
        tags,
        summary: "End a rotation's grace now: the old secret is refused on every pod from this answer on",
        params: ConsumerKeyParams,
        response: { 200: RotationFinished, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      const done = await finishRotationEverywhere(app.announcer, {
        key: request.params.key,
        actor: request.actor,
      });
      return done!;
    },
  );

  app.post(
    "/consumers/:key/tokens/revoke",
    {
      schema: {
        tags,
        summary: "Revoke every token issued through the consumer, on every pod; the consumer stays active",
        params: ConsumerKeyParams,
        body: RevokeTokensBody,
        response: { 200: ConsumerTokensRevoked, ...errors(400, 404, 409) },
      },
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) =>
      revokeConsumerTokensEverywhere(app.announcer, {
        key: request.params.key,
        ...(request.body?.reason ? { reason: request.body.reason } : {}),
        actor: request.actor,
      }),
  );

  app.post(
    "/consumers/:key/rotate",
    {
      schema: {
        tags,
        summary: "New secret; the old one keeps verifying for grace_seconds (default 0)",
        params: ConsumerKeyParams,
        body: RotateBody,
        response: { 200: Rotated, ...errors(400, 404, 409) },
      },
      // the body is optional: no body means {"grace_seconds": 0}
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const graceSeconds = request.body?.grace_seconds ?? 0;
      const quietSeconds = request.body?.finish_when_quiet_seconds;
      if (quietSeconds !== undefined && graceSeconds === 0) {
        throw new ApiError(400, "invalid_input", "finish_when_quiet_seconds needs grace_seconds > 0");
      }
      const rotated = await rotateConsumerEverywhere(app.announcer, keyring, {
        key: request.params.key,
        graceSeconds,
        quietSeconds: quietSeconds ?? null,
        actor: request.actor,
      });
      return { key: rotated.key, secret: rotated.secret };
    },
  );

  app.post(
    "/consumers/:key/revoke",
    {
      schema: {
        tags,
        summary: "Revoke a consumer and every token issued through it, on every data pod",
        description:
          "Commits the revocation, publishes signet.consumer.revoked and waits a short bounded window for the data pods' confirmations; confirmed_pods counts them.",
        params: ConsumerKeyParams,
        body: RevokeBody,
        response: { 200: Revoked, ...errors(400, 404) },
      },
    },
    async (request) =>
      revokeConsumerEverywhere(app.announcer, {
        key: request.params.key,
        reason: request.body.reason,
        actor: request.actor,
      }),
  );
};
