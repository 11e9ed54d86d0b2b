// What the session bucket holds reveals no usable credential (docs/api.md, "Session cookie
// and store"; docs/design.md, "Server-side sessions"). Anyone who can read the NATS KV bucket
// sees, per session:
// - a key that is the SHA-256 of the session id, never the id itself (the id carries 256
//   random bits, so the hash cannot be turned back into a cookie);
// - a value sealed with AES-256-GCM (the shared Keyring's format: version, key id, IV, body,
//   tag) under a key derived with HKDF-SHA256 from SESSION_SECRET under a label of its own,
//   the session id bound as associated data, so a value copied under another key does not open.
// SESSION_SECRET's comma-separated secrets rotate: the first seals, every one opens. A value
// that does not open — sealed under a secret no longer listed, tampered with, or plaintext JSON
// written before sealing existed — is no session: the visitor is signed out, nothing crashes.
import { createHash, hkdfSync } from "node:crypto";
import type { Session } from "fastify";
import { Keyring } from "@signet/shared/crypto";

const LABEL = "signet-frontend session seal v1";

/** The bucket key of a session: SHA-256 of its id, base64url (a valid NATS KV key). */
export const bucketKeyOf = (sessionId: string) => createHash("sha256").update(sessionId).digest("base64url");

export class SessionSeal {
  private readonly keyring: Keyring;

  /** `secrets`: SESSION_SECRET's values, the sealing one first. */
  constructor(secrets: readonly string[]) {
    this.keyring = new Keyring(
      secrets.map((secret) => Buffer.from(hkdfSync("sha256", secret, "", LABEL, 32))),
    );
  }

  seal(sessionId: string, session: Session): string {
    return this.keyring.seal(JSON.stringify(session), context(sessionId));
  }

  /** The session sealed in `value`, or null when it does not open (signed out). */
  open(sessionId: string, value: string): Session | null {
    try {
      return JSON.parse(this.keyring.open(value, context(sessionId))) as Session;
    } catch {
      return null;
    }
  }
}

const context = (sessionId: string) => `signet-frontend session:${sessionId}`;
