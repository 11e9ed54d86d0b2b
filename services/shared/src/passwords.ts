// Password hashing: argon2id at the OWASP Password Storage Cheat Sheet parameters
// (m = 19 MiB, t = 2, p = 1).
import argon2 from "argon2";

const PASSWORD_HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, PASSWORD_HASH_OPTIONS);
}

// A hash of nothing anybody knows, verified when the user does not exist so that an
// unknown username costs the same time as a wrong password.
let dummyHash: Promise<string> | undefined;

/** Verifies `password` against `hash`; with no hash, burns the same time and answers false. */
export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= hashPassword("signet-dummy-password-for-timing");
    await argon2.verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
