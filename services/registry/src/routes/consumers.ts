// POST/GET /consumers, GET /consumers/:key, POST /consumers/:key/rotate, POST /consumers/:key/revoke
// (docs/api.md, "Admin routes").
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { notFound } from "@signet/shared/http";
import { consumerView, findConsumer, listConsumers } from "@signet/shared/repos";
import { addConsumer, revokeConsumerEverywhere, rotateConsumerEverywhere } from "../operations/consumers.js";
import {
  ConsumerKeyParams,
  ConsumerView,
  CreateConsumerBody,
  CreatedConsumer,
  RevokeBody,
  Revoked,
  RotateBody,
  Rotated,
  errors,
} from "../schemas.js";

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
      });
    },
  );

  app.get(
    "/consumers",
    {
      schema: {
        tags,
        summary: "List consumers (no secrets)",
        response: { 200: Type.Object({ consumers: Type.Array(ConsumerView) }), ...errors() },
      },
    },
    async () => ({ consumers: (await listConsumers(app.db)).map(consumerView) }),
  );

  app.get(
    "/consumers/:key",
    {
      schema: {
        tags,
        summary: "One consumer (no secret)",
        params: ConsumerKeyParams,
        response: { 200: ConsumerView, ...errors(400, 404) },
      },
    },
    async (request) => {
      const consumer = await findConsumer(app.db, request.params.key);
      if (!consumer) throw notFound("consumer");
      return consumerView(consumer);
    },
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
      const rotated = await rotateConsumerEverywhere(app.announcer, keyring, {
        key: request.params.key,
        graceSeconds: request.body?.grace_seconds ?? 0,
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
