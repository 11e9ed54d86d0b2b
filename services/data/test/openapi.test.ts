// The data service's OpenAPI document (/docs/json): it declares the servers requests are
// signed for (SIGNET_PUBLIC_URL when set) and the form bodies /authenticate and /users take.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { startDataPod, type DataPod } from "@signet/test-support/pods";

const tdb = useTestDatabase();
let plain: DataPod;
let proxied: DataPod;
beforeAll(async () => {
  [plain, proxied] = await Promise.all([
    startDataPod({ db: tdb.db, listen: false, config: { docs: true } }),
    startDataPod({
      db: tdb.db,
      listen: false,
      config: { docs: true, publicUrl: "https://api.example.com/" },
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([plain?.close(), proxied?.close()]);
});

interface OpenApi {
  servers: { url: string; description: string }[];
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
}
const document = async (pod: DataPod) =>
  (await pod.app.inject({ method: "GET", url: "/docs/json" })).json() as OpenApi;

describe("the data service's OpenAPI document", () => {
  it("servers: the address called, or SIGNET_PUBLIC_URL", async () => {
    expect((await document(plain)).servers).toEqual([
      { url: "/", description: expect.stringContaining("sign") },
    ]);
    expect((await document(proxied)).servers).toEqual([
      { url: "https://api.example.com", description: expect.stringContaining("SIGNET_PUBLIC_URL") },
    ]);
  });

  it("POST /authenticate and POST /users take a form body or JSON, with the same fields; notes JSON only", async () => {
    const { paths } = await document(plain);
    for (const path of ["/authenticate", "/users"]) {
      const content = paths[path]!.post!.requestBody!.content;
      expect(Object.keys(content).sort()).toEqual(["application/json", "application/x-www-form-urlencoded"]);
      expect(content["application/x-www-form-urlencoded"]!.schema).toEqual(
        content["application/json"]!.schema,
      );
      expect(JSON.stringify(content["application/x-www-form-urlencoded"]!.schema)).toContain("password");
    }
    expect(Object.keys(paths["/notes"]!.post!.requestBody!.content)).toEqual(["application/json"]);
  });
});
