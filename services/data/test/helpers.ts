// The data tests' own request builders (pods, seeders and signing are @signet/test-support's).
import type { ClientCredentials } from "@signet/shared/oauth";
import type { SignedOptions } from "@signet/test-support/signed";

/** A signed POST /authenticate through `consumer`: `user`'s username and password as a form. */
export const login = (
  consumer: ClientCredentials,
  user: { username: string; password: string },
): SignedOptions => ({
  method: "POST",
  url: "/authenticate",
  consumer,
  form: { username: user.username, password: user.password },
});
