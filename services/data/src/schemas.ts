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
  NOTES_PAGE_DEFAULT,
  NOTES_PAGE_MAX,
  SEARCH_QUERY_MAX,
  MULTI_LINE_PATTERN,
  SINGLE_LINE_PATTERN,
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

/** The end user's address, honoured only from a consumer holding the `client-address` scope. */
const ClientIp = Type.String({
  maxLength: 64,
  description:
    "the end user's IPv4 or IPv6 address, as the calling service sees it: the throttle's client address when the consumer holds the `client-address` scope (400 invalid_input when it is not an address); ignored from any other consumer",
});

/** A user's display name: one line, no control character (rules.ts, SINGLE_LINE_PATTERN). */
export const DisplayName = Type.String({
  minLength: 1,
  maxLength: DISPLAY_NAME_MAX,
  pattern: SINGLE_LINE_PATTERN,
  description: `1–${DISPLAY_NAME_MAX} characters, one line: no control character (C0, DEL, C1, bidi controls)`,
});
/** A note's title: one line. */
const NoteTitle = Type.String({ minLength: 1, maxLength: NOTE_TITLE_MAX, pattern: SINGLE_LINE_PATTERN });
/** A note's body: several lines (tab, LF, CR), no other control character. */
const NoteBody = Type.String({ maxLength: NOTE_BODY_MAX, pattern: MULTI_LINE_PATTERN });

export const SignUpBody = Type.Object({
  username: Username,
  password: Password,
  display_name: DisplayName,
  client_ip: Type.Optional(ClientIp),
});

export const LoginBody = Type.Object({
  // Loose on purpose (a username that cannot exist is answered like a wrong password), but
  // one line: a control character in a name is bad input everywhere (400).
  username: Type.String({ minLength: 1, maxLength: LOGIN_USERNAME_MAX, pattern: SINGLE_LINE_PATTERN }),
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  client_ip: Type.Optional(ClientIp),
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

/** An opaque page cursor (routes/notes.ts makes and reads them): base64url. */
const cursor = (description: string) =>
  Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9_-]+$", description });

export const NoteListQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: NOTES_PAGE_MAX,
        default: NOTES_PAGE_DEFAULT,
        description: `notes per page (default ${NOTES_PAGE_DEFAULT}, at most ${NOTES_PAGE_MAX})`,
      }),
    ),
    before: Type.Optional(cursor("a previous answer's `next`: the page of notes older than it")),
    after: Type.Optional(
      cursor(
        "a previous answer's `prev`: the page of notes just newer than it (still newest first); not together with `before`",
      ),
    ),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: SEARCH_QUERY_MAX,
        pattern: SINGLE_LINE_PATTERN,
        description:
          'full-text search over titles and bodies (whole words, any case; "quoted phrases", `or`, `-word`)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const NoteList = Type.Object({
  notes: Type.Array(Type.Ref("Note"), { description: "newest first" }),
  next: Type.Union([Type.String(), Type.Null()], {
    description: "pass as `before` for the next (older) page; null on the last page",
  }),
  prev: Type.Union([Type.String(), Type.Null()], {
    description: "pass as `after` for the previous (newer) page; null on the first page",
  }),
});

export const NewNoteBody = Type.Object({ title: NoteTitle, body: NoteBody });

export const NotePatchBody = Type.Object(
  {
    title: Type.Optional(NoteTitle),
    body: Type.Optional(NoteBody),
  },
  { minProperties: 1 },
);

export const ProfilePatchBody = Type.Object({ display_name: DisplayName }, { additionalProperties: false });

export const PasswordChangeBody = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  new_password: Password,
  client_ip: Type.Optional(ClientIp),
});

export const LogoutBody = Type.Object(
  {
    everywhere: Type.Optional(
      Type.Boolean({ description: "true: every token of the user, this one included" }),
    ),
  },
  { additionalProperties: false },
);

export const NoteParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
