// Least privilege at the registry (docs/api.md, "Scopes", "Admin routes", "Registry
// settings"): POST /consumers requires scopes and knows their names; bootstrap consumers
// take name:key:secret[:scope|scope…] (default `*`), and scopes an entry names are applied
// to an existing consumer at start, announced so every pod re-reads it.
import { describe, expect, it } from "vitest";
import { SUBJECTS } from "@signet/shared/bus";
import { ConfigError } from "@signet/shared/config";
import { findConsumer } from "@signet/shared/repos";
import { SCOPES } from "@signet/shared/rules";
import { useTestDatabase } from "@signet/test-support/db";
import { waitFor } from "@signet/test-support/wait";
import { KNOWN_SCOPES } from "../src/cli/consumers.js";
import { loadRegistryConfig } from "../src/config.js";
import { ADMIN, admin, startRegistry, useRegistry } from "./helpers.js";

const tdb = useTestDatabase();
const registry = useRegistry(tdb, { config: { confirmWindowMs: 50 } });

describe("POST /consumers", () => {
  it("requires scopes: 400 invalid_input without them, for an unknown name, or a repeated one", async () => {
    for (const body of [
      { name: "no-scopes" },
      { name: "unknown", scopes: ["notes:delete"] },
      { name: "typo", scopes: ["notes:reed"] },
      { name: "repeated", scopes: ["notes:read", "notes:read"] },
    ]) {
      const res = await admin(registry.app, "POST", "/consumers", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ error: "invalid_input" });
    }
    expect(await tdb.db.selectFrom("consumers").select("key").execute()).toEqual([]);
  });

  it('creates with ["*"] (everything), [] (nothing) or named scopes, and shows them back', async () => {
    for (const scopes of [["*"], [], ["authenticate", "client-address"]]) {
      const res = await admin<{ key: string; scopes: string[] }>(registry.app, "POST", "/consumers", {
        name: `scoped-${scopes.length}`,
        scopes,
      });
      expect(res.status).toBe(201);
      expect(res.body.scopes).toEqual(scopes);
      expect((await findConsumer(tdb.db, res.body.key))!.scopes).toEqual(scopes);
    }
  });

  it("the OpenAPI document names the scopes and marks them required", async () => {
    const doc = (await registry.inject("/docs/json")).json() as {
      paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
    };
    const schema = doc.paths["/consumers"]!.post!.requestBody.content["application/json"]!.schema as {
      required: string[];
      properties: { scopes: { items: { enum: string[] } } };
    };
    expect(schema.required).toContain("scopes");
    expect(schema.properties.scopes.items.enum).toEqual([...SCOPES]);
  });

  it("signetctl knows the same scope names as the services", () => {
    expect(KNOWN_SCOPES).toEqual([...SCOPES]);
  });
});

const ENV = {
  DATABASE_URL: "postgres://x/y",
  NATS_URL: "nats://a:4222",
  SIGNET_MASTER_KEY: Buffer.alloc(32, 7).toString("base64"),
  SIGNET_ADMIN_TOKENS: `${ADMIN.name}:${ADMIN.token}`,
};
const bootstrapOf = (value: string) =>
  loadRegistryConfig({ ...ENV, SIGNET_BOOTSTRAP_CONSUMERS: value }).bootstrapConsumers;

describe("SIGNET_BOOTSTRAP_CONSUMERS", () => {
  it("reads name:key:secret[:scope|scope…]; no scope list leaves them unset (`*` for a new consumer)", () => {
    expect(
      bootstrapOf(
        "frontend:ck_frontend:secret-0123456789abcdef:authenticate|users:create|notes:read|notes:write|client-address, " +
          "billing:ck_billing:secret-0123456789abcdef:*, reader:ck_reader:secret-0123456789abcdef, " +
          "none:ck_none_none:secret-0123456789abcdef:",
      ),
    ).toEqual([
      {
        name: "frontend",
        key: "ck_frontend",
        secret: "secret-0123456789abcdef",
        scopes: ["authenticate", "users:create", "notes:read", "notes:write", "client-address"],
      },
      { name: "billing", key: "ck_billing", secret: "secret-0123456789abcdef", scopes: ["*"] },
      { name: "reader", key: "ck_reader", secret: "secret-0123456789abcdef" },
      { name: "none", key: "ck_none_none", secret: "secret-0123456789abcdef", scopes: [] },
    ]);
  });

  it("refuses an unknown scope, and a secret holding ':' (the old form), without echoing the secret", () => {
    for (const [value, pattern] of [
      ["frontend:ck_frontend:secret-0123456789abcdef:notes:reed", /not a list of scopes/],
      ["frontend:ck_frontend:secret-0123456789abcdef:TOP-SECRET-TAIL", /a secret may not contain ":"/],
      ["frontend:ck_frontend:short:TOP-SECRET-TAIL-0123456789", /at least 16 characters without ":"/],
    ] as const) {
      let error: unknown;
      try {
        bootstrapOf(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(pattern);
      expect((error as Error).message).not.toMatch(/TOP-SECRET|short|reed/);
    }
  });

  it("creates with the entry's scopes or `*`; applies changed scopes at start, announced; leaves them alone when the entry names none", async () => {
    const key = "ck_boot_scopes";
    const secret = "boot-secret-0123456789";
    // another registry on the file's database and NATS connection, with one bootstrap entry
    const start = (scopes?: string[]) => {
      const entry = { name: "boot-scoped", key, secret, ...(scopes ? { scopes } : {}) };
      const shared = { databaseUrl: tdb.url, db: tdb.db, natsUrl: registry.nats.url, bus: registry.bus };
      return startRegistry({
        ...shared,
        relay: false,
        config: { confirmWindowMs: 50, bootstrapConsumers: [entry] },
      });
    };
    const scopesNow = async () => (await findConsumer(tdb.db, key))!.scopes;
    const heard: unknown[] = [];
    const off = registry.bus.subscribe(SUBJECTS.consumerRotated, (payload) => void heard.push(payload));
    try {
      await (await start()).close();
      expect(await scopesNow()).toEqual(["*"]);
      await (await start(["authenticate", "notes:read"])).close();
      expect(await scopesNow()).toEqual(["authenticate", "notes:read"]);
      await waitFor("the scope change to be announced", () => heard.length === 1);
      expect(heard[0]).toMatchObject({ key, actor: "bootstrap" });
      await (await start(["notes:read", "authenticate"])).close(); // the same set: nothing to do
      await (await start()).close(); // no scopes in the entry: left alone
      expect(await scopesNow()).toEqual(["authenticate", "notes:read"]);
      const audit = await tdb.db
        .selectFrom("audit_events")
        .select(["action", "actor", "details"])
        .where("target", "=", key)
        .orderBy("id")
        .execute();
      expect(audit.map((a) => [a.action, a.actor])).toEqual([
        ["consumer.create", "bootstrap"],
        ["consumer.update", "bootstrap"],
      ]);
      expect(audit[1]!.details).toMatchObject({
        scopes: ["authenticate", "notes:read"],
        previous_scopes: ["*"],
      });
      expect(heard).toHaveLength(1);
    } finally {
      off();
    }
  });
});
