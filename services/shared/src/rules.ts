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

/** PostgreSQL text cannot hold NUL: free text with one is refused as invalid input. */
export const NO_NUL_PATTERN = "^[^\\u0000]*$";
