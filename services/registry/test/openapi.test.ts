// The admin API's OpenAPI document (/docs/json) declares its server.
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { useRegistry } from "./helpers.js";

const tdb = useTestDatabase();
const registry = useRegistry(tdb);

describe("the registry's OpenAPI document", () => {
  it("declares servers (the registry as it is called)", async () => {
    const doc = (await registry.inject("/docs/json")).json() as { servers: { url: string }[] };
    expect(doc.servers).toEqual([{ url: "/", description: expect.stringContaining("registry") }]);
  });
});
