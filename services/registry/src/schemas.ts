// TypeBox schemas of the admin API; the same schemas validate, serialise and feed /docs/json.
import { Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "./durations.js";
import {
  DISPLAY_NAME_MAX,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  SCOPES,
  SINGLE_LINE_PATTERN,
  TRIMMED_NAME_PATTERN,
  USERNAME_PATTERN,
} from "@signet/shared/rules";

export const ErrorBody = Type.Object(
  { error: Type.String({ examples: ["not_found"] }), message: Type.String() },
  { $id: "Error", description: "Every error: a machine-readable code and a sentence" },
);

const ref = Type.Ref("Error");
/** The error answers a route can give, by status. */
export const errors = (...statuses: number[]) =>
  Object.fromEntries([401, 503, ...statuses].map((s) => [s, ref]));

export const Timestamp = Type.String({ format: "date-time" });

/** One line of text (rules.ts): a control character in any name or free-text field is 400 invalid_input. */
const singleLine = (limits: { minLength?: number; maxLength: number }) =>
  Type.String({ ...limits, pattern: SINGLE_LINE_PATTERN });

export const ConsumerKeyParams = Type.Object({ key: singleLine({ minLength: 1, maxLength: 128 }) });
/** A scope name (docs/api.md, "Scopes"): one of SCOPES; `*` grants every scope. */
export const Scope = Type.String({ enum: [...SCOPES], description: SCOPES.join(", ") });

const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const LastUsed = Type.Union(
  [
    Type.Object({
      at: Type.String({ format: "date-time", description: "to the second, the database's clock" }),
      pod: Type.String({ description: "the data pod that saw it" }),
    }),
    Type.Null(),
  ],
  { description: "the latest use the data pods reported (they write in batches, every few seconds)" },
);

export const ConsumerView = Type.Object({
  key: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  status: Type.Union([Type.Literal("active"), Type.Literal("revoked")]),
  created_at: Timestamp,
  revoked_at: NullableTimestamp,
  expires_at: Type.Union([Timestamp, Type.Null()], {
    description: "from this instant every data pod refuses it; null: never",
  }),
  last_used: LastUsed,
});

export const SecretView = Type.Object({
  id: Type.String({ description: "a public id (derived from the sealed value, never the secret)" }),
  created_at: Timestamp,
  ends_at: Type.Union([Timestamp, Type.Null()], {
    description: "the old secret of a rotation: when its grace ends; null for the current secret",
  }),
  finish_when_quiet_seconds: Type.Union([Type.Integer(), Type.Null()]),
  last_used: LastUsed,
});

export const ConsumerDetail = Type.Composite([
  ConsumerView,
  Type.Object({
    secrets: Type.Array(SecretView, { description: "the current secret, then any old one in its grace" }),
  }),
]);

export const ListConsumersQuery = Type.Object(
  {
    expiring_within: Type.Optional(
      Type.String({
        pattern: DURATION_PATTERN,
        description: "only active consumers whose expiry falls within this duration from now, e.g. 7d",
      }),
    ),
  },
  { additionalProperties: false },
);

const ExpiresAt = Type.Union([Timestamp, Type.Null()], {
  description: "an ISO 8601 instant from which every data pod refuses the consumer; null: never",
});

export const CreateConsumerBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: TRIMMED_NAME_PATTERN,
      description: "1–100 characters, no leading or trailing blank, no control character",
    }),
    scopes: Type.Array(Scope, {
      maxItems: SCOPES.length,
      uniqueItems: true,
      description: 'required: `["*"]` grants every scope, `[]` none',
    }),
    expires_at: Type.Optional(ExpiresAt),
  },
  { additionalProperties: false },
);

export const UpdateConsumerBody = Type.Object(
  {
    scopes: Type.Optional(
      Type.Array(Scope, {
        maxItems: SCOPES.length,
        uniqueItems: true,
        description: "the new grant; fewer scopes are refused on every pod from the answer on",
      }),
    ),
    expires_at: Type.Optional(ExpiresAt),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const UpdatedConsumer = Type.Composite([
  ConsumerView,
  Type.Object({
    confirmed_pods: Type.Integer({ minimum: 0, description: "data pods that confirmed the change" }),
  }),
]);

export const CreatedConsumer = Type.Object({
  key: Type.String(),
  secret: Type.String({ description: "shown only here and on rotate" }),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  status: Type.Literal("active"),
  created_at: Timestamp,
  expires_at: Type.Union([Timestamp, Type.Null()]),
});

const MAX_GRACE_SECONDS = 30 * 86_400;
export const RotateBody = Type.Object(
  {
    grace_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_GRACE_SECONDS, default: 0 })),
    finish_when_quiet_seconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_GRACE_SECONDS,
        description:
          "end the grace earlier, once the old secret has not been used for this long (needs grace_seconds > 0)",
      }),
    ),
  },
  { additionalProperties: false },
);
export const Rotated = Type.Object({ key: Type.String(), secret: Type.String() });

const ConfirmedPods = Type.Integer({
  minimum: 0,
  description: "data pods that confirmed the eviction within the window",
});
export const RotationFinished = Type.Object({ key: Type.String(), confirmed_pods: ConfirmedPods });

/** Why (a revocation, a sign-out): written to the audit log and the event; one line, 1–500 characters. */
export const Reason = singleLine({ minLength: 1, maxLength: 500 });

export const RevokeBody = Type.Object({ reason: Reason }, { additionalProperties: false });
export const Revoked = Type.Object({
  key: Type.String(),
  status: Type.Literal("revoked"),
  revoked_at: Timestamp,
  confirmed_pods: Type.Integer({
    minimum: 0,
    description: "data pods that confirmed the eviction within the window",
  }),
});

export const RevokeTokensBody = Type.Object(
  { reason: Type.Optional(Reason) },
  { additionalProperties: false },
);
export const ConsumerTokensRevoked = Type.Object({
  key: Type.String(),
  revoked_tokens: Type.Integer({ minimum: 0 }),
  confirmed_pods: ConfirmedPods,
});
export const UserTokensRevoked = Type.Object({
  username: Type.String(),
  revoked_tokens: Type.Integer({ minimum: 0 }),
  confirmed_pods: ConfirmedPods,
});

export const RevokeAllBody = Type.Object(
  {
    issued_before: Type.Union([Timestamp, Type.Literal("now")], {
      description:
        'an ISO 8601 instant, not in the future, or "now" (the database\'s clock, to the millisecond)',
    }),
    reason: Reason,
  },
  { additionalProperties: false },
);
export const RevokedAll = Type.Object({
  issued_before: Type.String({
    format: "date-time",
    description: "the not-before in force (it only moves forward)",
  }),
  confirmed_pods: ConfirmedPods,
});

export const Username = Type.String({ pattern: USERNAME_PATTERN });
export const Password = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });
export const UsernameParams = Type.Object({ username: singleLine({ minLength: 1, maxLength: 64 }) });

export const UserView = Type.Object({
  id: Type.String(),
  username: Type.String(),
  display_name: Type.String(),
  status: Type.Union([Type.Literal("active"), Type.Literal("disabled")]),
  created_at: Timestamp,
});

export const CreateUserBody = Type.Object(
  {
    username: Username,
    password: Password,
    display_name: singleLine({ minLength: 1, maxLength: DISPLAY_NAME_MAX }),
  },
  { additionalProperties: false },
);
export const PasswordBody = Type.Object({ password: Password }, { additionalProperties: false });

export const UserChanged = Type.Object({
  id: Type.String(),
  username: Type.String(),
  status: Type.Union([Type.Literal("active"), Type.Literal("disabled")]),
  tokens_revoked: Type.Integer({ minimum: 0 }),
  confirmed_pods: Type.Integer({ minimum: 0 }),
});

export const AuditQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
});
export const AuditEventView = Type.Object({
  at: Timestamp,
  actor: Type.String(),
  action: Type.String(),
  target: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
});

export const PodView = Type.Object({
  pod: Type.String({ description: "the data pod's id (POD_NAME)" }),
  last_seen: Type.String({
    format: "date-time",
    description: "when the registry received the pod's last heartbeat (the registry's clock)",
  }),
  interval_ms: Type.Integer({
    minimum: 0,
    description: "the pod's heartbeat interval; it is forgotten after 3 intervals without one",
  }),
});
