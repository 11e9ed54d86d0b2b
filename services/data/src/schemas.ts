// TypeBox schemas of the data API: request bodies, params and every response status.
// The same schemas validate, serialise and feed the OpenAPI document.
import { Type, type TSchema } from "@sinclair/typebox";
import {
  DISPLAY_NAME_MAX,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  USERNAME_PATTERN,
  LOGIN_USERNAME_MAX,
  NOTE_BODY_MAX,
  NOTE_TITLE_MAX,
  NO_NUL_PATTERN,
} from "@signet/shared/rules";

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: "machine-readable code, e.g. invalid_input, nonce_used" }),
    message: Type.String(),
  },
  {
    $id: "Error",
    description: 'OAuth failures also carry `WWW-Authenticate: OAuth realm="signet", oauth_problem="CODE"`',
  },
);

const err = (description: string): TSchema => Type.Ref("Error", { description });

/** Every data route is signed (the oauth1 scheme of the OpenAPI document, plugins/docs.ts). */
export const SECURITY = [{ oauth1: [] }];

/** The error statuses every OAuth route can answer. */
export const oauthErrors: Record<400 | 401 | 403 | 413 | 503, TSchema> = {
  400: err("invalid_input, or a malformed OAuth request (parameter_rejected)"),
  401: err(
    "OAuth failure: parameter_absent, version_rejected, signature_method_rejected, signature_invalid, timestamp_refused, nonce_used, consumer_key_unknown, consumer_key_rejected, token_rejected, token_revoked, token_expired, body_hash_invalid",
  ),
  403: err("insufficient_scope (the consumer lacks the route's scope) or user_disabled"),
  413: err("invalid_input: body larger than the limit"),
  503: err("unavailable: the database cannot be reached"),
};

export const PublicUserSchema = Type.Object(
  {
    id: Type.String({ format: "uuid" }),
    username: Type.String(),
    display_name: Type.String(),
  },
  { $id: "User" },
);

export const Username = Type.String({
  pattern: USERNAME_PATTERN,
  description: `matches ${USERNAME_PATTERN}`,
});
const Password = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });

export const SignUpBody = Type.Object({
  username: Username,
  password: Password,
  display_name: Type.String({ minLength: 1, maxLength: DISPLAY_NAME_MAX, pattern: NO_NUL_PATTERN }),
});

export const LoginBody = Type.Object({
  // Loose on purpose: a username that cannot exist is answered like a wrong password.
  username: Type.String({ minLength: 1, maxLength: LOGIN_USERNAME_MAX }),
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  client_ip: Type.Optional(
    Type.String({
      maxLength: 64,
      description:
        "the end user's address, as seen by the calling service; signed, so trusted as the per-address rate-limit key",
    }),
  ),
});

export const LoginResponse = Type.Object({
  token: Type.String(),
  secret: Type.String({ description: "the token secret; shown only here" }),
  expires_at: Type.String({ format: "date-time" }),
  user: Type.Ref("User"),
});

export const NoteSchema = Type.Object(
  {
    id: Type.String({ format: "uuid" }),
    title: Type.String(),
    body: Type.String(),
    created_at: Type.String({ format: "date-time" }),
    updated_at: Type.String({ format: "date-time" }),
  },
  { $id: "Note" },
);

export const NoteList = Type.Object({ notes: Type.Array(Type.Ref("Note"), { description: "newest first" }) });

export const NewNoteBody = Type.Object({
  title: Type.String({ minLength: 1, maxLength: NOTE_TITLE_MAX, pattern: NO_NUL_PATTERN }),
  body: Type.String({ maxLength: NOTE_BODY_MAX, pattern: NO_NUL_PATTERN }),
});

export const NotePatchBody = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: NOTE_TITLE_MAX, pattern: NO_NUL_PATTERN })),
    body: Type.Optional(Type.String({ maxLength: NOTE_BODY_MAX, pattern: NO_NUL_PATTERN })),
  },
  { minProperties: 1 },
);

export const NoteParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
