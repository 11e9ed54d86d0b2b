// Secrets at rest: AES-256-GCM sealing under SIGNET_MASTER_KEY, with a key id so the
// master key can be rotated (new key first, old keys after, comma-separated).
// Random credentials and constant-time comparison live here too.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";

const VERSION = "v1";

export interface MasterKey {
  id: string;
  key: Buffer;
}

export class Keyring {
  readonly current: MasterKey;
  private readonly byId: Map<string, MasterKey>;

  constructor(keys: Buffer[]) {
    if (keys.length === 0) throw new Error("Keyring needs at least one key");
    const masterKeys = keys.map((key) => {
      if (key.length !== 32) throw new Error("SIGNET_MASTER_KEY must be base64 of exactly 32 bytes");
      return { id: createHash("sha256").update(key).digest("hex").slice(0, 8), key };
    });
    this.current = masterKeys[0]!;
    this.byId = new Map(masterKeys.map((k) => [k.id, k]));
  }

  /** Parses SIGNET_MASTER_KEY: base64 keys, the sealing key first, older ones after commas. */
  static fromEnv(value: string): Keyring {
    return new Keyring(
      value
        .split(",")
        .map((part) => part.trim())
        .filter(Boolean)
        .map((part) => Buffer.from(part, "base64")),
    );
  }

  static generateKey(): string {
    return randomBytes(32).toString("base64");
  }

  /**
   * A key of its own for one purpose (`label`, e.g. "signet/bus-mac/v1"), derived from each
   * master key with HKDF-SHA256: the current one first, with the master key's id, so a
   * value made under an older master key can still be checked during a key rotation.
   */
  derive(label: string): MasterKey[] {
    const all = [this.current, ...[...this.byId.values()].filter((k) => k !== this.current)];
    return all.map(({ id, key }) => ({
      id,
      key: Buffer.from(hkdfSync("sha256", key, Buffer.from("signet"), Buffer.from(label), 32)),
    }));
  }

  /**
   * Seals `plaintext`; `context` (e.g. "consumer:<key>") is bound as associated data,
   * so a sealed value copied onto another row does not open.
   */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.current.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      VERSION,
      this.current.id,
      iv.toString("base64url"),
      body.toString("base64url"),
      tag.toString("base64url"),
    ].join(".");
  }

  open(sealed: string, context: string): string {
    const [version, id, iv, body, tag] = sealed.split(".");
    if (version !== VERSION || !id || iv === undefined || body === undefined || tag === undefined) {
      throw new Error("sealed value is malformed");
    }
    const key = this.byId.get(id);
    if (!key) throw new Error(`sealed with unknown master key id ${id}`);
    const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  }
}

/** A random credential: `bytes` bytes from the CSPRNG, base64url (no padding). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** Constant-time equality of two strings (hashing first so lengths never leak). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}
