// No oracle without a signature (docs/api.md, "OAuth errors"): a consumer's or token's state
// — revoked, expired, issued elsewhere, unknown — is told only to a request signed with its
// secret; any other request gets signature_invalid, whatever the key or token. Unknown keys
// and tokens are remembered per pod for a few seconds and concurrent lookups share one read,
// so a burst of garbage reaches PostgreSQL at most once per key (counted with a Kysely plugin
// on the pod's database handle).
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs } from "kysely";
import { SUBJECTS } from "@signet/shared/bus";
import type { ClientCredentials } from "@signet/shared/oauth";
import { revokeConsumer, revokeToken } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { unique } from "@signet/test-support/keys";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedConsumer, seedCredentials, seedToken, type SeededCredentials } from "@signet/test-support/seed";
import { signedInject, type SignedOptions } from "@signet/test-support/signed";
import { UNKNOWN_TTL_MS } from "../src/plugins/credentials.js";

/** Remembers every statement the pod sends; `reads(x)`: how many mention `x` (a key or token). */
class Statements implements KyselyPlugin {
  private readonly seen: string[] = [];
  transformQuery(args: PluginTransformQueryArgs) {
    this.seen.push(JSON.stringify(args.node));
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs) {
    return args.result;
  }
  reads(needle: string): number {
    return this.seen.filter((statement) => statement.includes(needle)).length;
  }
}

const tdb = useTestDatabase();
const statements = new Statements();
let pod: DataPod;
let seeded: SeededCredentials;
beforeAll(async () => {
  pod = await startDataPod({ db: tdb.db.withPlugin(statements), listen: false });
  seeded = await seedCredentials(tdb.db);
});
afterAll(async () => {
  await pod?.close();
});

/** What a client can observe of an answer. */
async function answer(options: SignedOptions) {
  const res = await signedInject(pod.app, options);
  return { status: res.statusCode, body: res.json(), challenge: res.headers["www-authenticate"] };
}
const me = (consumer: ClientCredentials, token: ClientCredentials) =>
  answer({ method: "GET", url: "/me", consumer, token });
const randomCredentials = () => ({ key: unique("garbage-"), secret: unique("s-") });
const SIGNATURE_INVALID = {
  status: 401,
  body: { error: "signature_invalid", message: "signature does not match" },
  challenge: 'OAuth realm="signet", oauth_problem="signature_invalid"',
};

describe("a token's state is told only behind the token's signature", () => {
  it("revoked, expired, issued elsewhere and unknown tokens answer alike to a request not signed with them", async () => {
    const { consumer, user } = seeded;
    const revoked = await seedToken(tdb.db, user, consumer);
    await revokeToken(tdb.db, revoked.key);
    const expired = await seedToken(tdb.db, user, consumer, -5);
    const elsewhere = await seedToken(tdb.db, user, await seedConsumer(tdb.db));
    for (const token of [revoked, expired, elsewhere, randomCredentials()]) {
      for (const secret of ["wrong", ""]) {
        expect(await me(consumer, { key: token.key, secret })).toEqual(SIGNATURE_INVALID);
      }
    }
    // signed with the secret: the state
    expect((await me(consumer, revoked)).body.error).toBe("token_revoked");
    expect((await me(consumer, expired)).body.error).toBe("token_expired");
    expect((await me(consumer, elsewhere)).body.error).toBe("token_rejected");
  });

  it("a revoked and an unknown consumer answer alike to a request not signed with the consumer's secret", async () => {
    const revoked = await seedConsumer(tdb.db);
    const revokedToken = await seedToken(tdb.db, seeded.user, revoked);
    await revokeConsumer(tdb.db, revoked.key, "test");
    const login = (consumer: ClientCredentials) =>
      answer({
        method: "POST",
        url: "/authenticate",
        consumer,
        form: { username: "x", password: "whatever1" },
      });
    for (const consumer of [revoked, randomCredentials()]) {
      const wrong = { key: consumer.key, secret: "wrong" };
      expect(await login(wrong)).toEqual(SIGNATURE_INVALID);
      expect(await me(wrong, revokedToken)).toEqual(SIGNATURE_INVALID);
    }
    expect((await login(revoked)).body.error).toBe("consumer_key_rejected");
    expect((await me(revoked, revokedToken)).body.error).toBe("consumer_key_rejected");
  });
});

describe("unknown keys and tokens are remembered briefly per pod", () => {
  it("a burst of garbage keys and tokens reads PostgreSQL at most once per key", async () => {
    const keys = Array.from({ length: 10 }, () => randomCredentials());
    const tokens = Array.from({ length: 10 }, () => randomCredentials());
    for (let wave = 0; wave < 3; wave++) {
      const answers = await Promise.all([
        ...keys.flatMap((consumer) => Array.from({ length: 20 }, () => me(consumer, seeded.token))),
        ...tokens.flatMap((token) => Array.from({ length: 20 }, () => me(seeded.consumer, token))),
      ]);
      expect(answers.every((a) => a.body.error === "signature_invalid")).toBe(true);
    }
    for (const { key } of [...keys, ...tokens]) expect(statements.reads(key), key).toBe(1);
    const stats = pod.app.credentials.stats();
    expect(stats.unknownConsumers).toBeGreaterThanOrEqual(10);
    expect(stats.unknownTokens).toBeGreaterThanOrEqual(10);
  });

  it("a consumer created after its key was seen: refused a few seconds at most, at once after an event names it", async () => {
    const early = randomCredentials();
    const evented = randomCredentials();
    for (const c of [early, evented])
      expect((await me(c, seeded.token)).body.error).toBe("signature_invalid");
    // the registry creates both (a bootstrap consumer whose client started first)
    for (const c of [early, evented]) await seedConsumer(tdb.db, { key: c.key, secret: c.secret });
    const tokenOf = async (c: ClientCredentials) => seedToken(tdb.db, seeded.user, c);
    // still "unknown" on this pod for UNKNOWN_TTL_MS: the trade-off the cache makes
    expect((await me(early, await tokenOf(early))).body.error).toBe("signature_invalid");
    // an event naming the key (a rotation) forgets it at once
    await pod.bus.publish(SUBJECTS.consumerRotated, {
      key: evented.key,
      at: new Date().toISOString(),
      actor: "t",
    });
    expect((await me(evented, await tokenOf(evented))).status).toBe(200);
    // and the unknown entry ends on its own (only Date is faked: the pod's clock moves on)
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + UNKNOWN_TTL_MS + 1);
      expect((await me(early, await tokenOf(early))).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a revoked consumer is cached with its state: signed requests learn it without a read each", async () => {
    const revoked = await seedConsumer(tdb.db);
    await revokeConsumer(tdb.db, revoked.key, "test");
    const login = () =>
      answer({
        method: "POST",
        url: "/authenticate",
        consumer: revoked,
        form: { username: "x", password: "y" },
      });
    for (let i = 0; i < 5; i++) expect((await login()).body.error).toBe("consumer_key_rejected");
    expect(statements.reads(revoked.key)).toBe(1);
  });
});
