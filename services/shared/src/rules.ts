// Validation limits shared by every service and the CLI, written once. Dependency-free on
// purpose: the frontend checks its forms against the same numbers the data service's
// schemas enforce, without pulling in the database layer or argon2.

/** Usernames: 3–64 of letters, digits, '.', '_' and '-'. */
export const USERNAME_PATTERN = "^[A-Za-z0-9._-]{3,64}$";
export const USERNAME_RE = new RegExp(USERNAME_PATTERN);
/** Longest username accepted at login (longer ones cannot exist; the check stays cheap). */
export const LOGIN_USERNAME_MAX = 256;
export const DISPLAY_NAME_MAX = 100;

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

export const NOTE_TITLE_MAX = 200;
export const NOTE_BODY_MAX = 10_000;

/** A page of notes (GET /notes, docs/api.md, "Notes"): 20 unless asked, never more than 100. */
export const NOTES_PAGE_DEFAULT = 20;
export const NOTES_PAGE_MAX = 100;
/** The longest search text GET /notes?q= accepts. */
export const SEARCH_QUERY_MAX = 200;

/**
 * Why a new password is refused, or undefined when it is acceptable: its length, and the
 * username (case-insensitive) as the password or inside it. The data service's POST
 * /me/password and the frontend's account form apply the same check.
 */
export function passwordProblem(username: string, password: string): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    return `a password has ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`;
  }
  if (password.toLowerCase().includes(username.toLowerCase())) {
    return "a password may not be or contain the username";
  }
  return undefined;
}

/**
 * The characters no name or free-text field may hold (docs/api.md, "Limits"), as the body
 * of a regular-expression character class: C0 controls (U+0000–U+001F: NUL, which
 * PostgreSQL text cannot hold, ESC, BEL, CR, LF, TAB…), DEL, C1 controls (U+0080–U+009F),
 * and the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which make
 * a terminal or a page show other text than what is stored. signetctl escapes the same set
 * in everything it prints (it imports no @signet/*: a test holds its copy to this one).
 */
export const CONTROL_CHARACTERS = "\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069";
/** As CONTROL_CHARACTERS, less tab, line feed and carriage return: what multi-line text may not hold. */
const CONTROLS_BUT_LINE_BREAKS =
  "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069";

/** One line of text (names, display names, titles, reasons, usernames at login): no control character. */
export const SINGLE_LINE_PATTERN = `^[^${CONTROL_CHARACTERS}]*$`;
/** A name with no surrounding white space (a consumer's name): one line, first and last character not blank. */
export const TRIMMED_NAME_PATTERN = `^(?!\\s)[^${CONTROL_CHARACTERS}]*(?<!\\s)$`;
/** Multi-line text (a note's body): tab, LF and CR allowed, no other control character. */
export const MULTI_LINE_PATTERN = `^[^${CONTROLS_BUT_LINE_BREAKS}]*$`;
/** Finds a control character (CONTROL_CHARACTERS) anywhere in a string. */
export const CONTROL_CHARACTER_RE = new RegExp(`[${CONTROL_CHARACTERS}]`, "u");

/**
 * Form and query parameters (docs/api.md, "Limits"): at most this many per request (query and
 * form body together), refused with 400 before they are decoded or sorted; a name may appear once.
 */
export const MAX_PARAMETERS = 100;

/**
 * Consumer scopes (docs/api.md, "Scopes"): each data route needs one; `*` grants every
 * scope, an empty list none. `client-address` lets a consumer pass the end user's address
 * (`client_ip`) as the throttle key. signetctl keeps its own copy (it imports no @signet/*).
 */
export const SCOPES = [
  "authenticate",
  "users:create",
  "notes:read",
  "notes:write",
  "client-address",
  "*",
] as const;
export type ScopeName = (typeof SCOPES)[number];
