// vitest hooks over the starters: a private nats-server for a test file, and a data pod with
// credentials seeded in its database; started before the file's tests, stopped after them.
import { afterAll, beforeAll } from "vitest";
import type { ClientCredentials } from "@signet/shared/oauth";
import type { TestDatabase } from "./db.js";
import { startPrivateNats, type PrivateNats } from "./nats.js";
import { startDataPod, type DataPod, type DataPodOptions } from "./pods.js";
import { seedCredentials, type SeededUser } from "./seed.js";

export interface UseDataPodOptions extends DataPodOptions {
  /** The seeded user's password. */
  password?: string;
}

/**
 * A data pod on the file's database (`tdb.db`, unless `databaseUrl` gives it a pool of its
 * own) and a consumer, a user and a token of the user's seeded there. Like useTestDatabase's,
 * the returned objects are filled in before the first test. `options` may be a function,
 * called then: for what is only known once earlier hooks ran (a URL).
 */
export function useDataPod(
  tdb: TestDatabase,
  options: UseDataPodOptions | (() => UseDataPodOptions) = {},
): { pod: DataPod; consumer: ClientCredentials; user: SeededUser; token: ClientCredentials } {
  const handle = {
    pod: {} as DataPod,
    consumer: {} as ClientCredentials,
    user: {} as SeededUser,
    token: {} as ClientCredentials,
  };
  beforeAll(async () => {
    const { password, ...podOptions } = typeof options === "function" ? options() : options;
    Object.assign(
      handle.pod,
      await startDataPod({ ...(podOptions.databaseUrl ? {} : { db: tdb.db }), ...podOptions }),
    );
    const seeded = await seedCredentials(tdb.db, password ? { password } : {});
    Object.assign(handle.consumer, seeded.consumer);
    Object.assign(handle.user, seeded.user);
    Object.assign(handle.token, seeded.token);
  });
  afterAll(async () => {
    await handle.pod.close?.();
  });
  return handle;
}

/**
 * A nats-server of the file's own (startPrivateNats), for tests that stop it or that no pod
 * of another test file may hear; filled in before the first test, disposed of after the last.
 */
export function usePrivateNats(): PrivateNats {
  const handle = {} as PrivateNats;
  beforeAll(async () => {
    Object.assign(handle, await startPrivateNats());
  });
  afterAll(async () => {
    await handle.dispose?.();
  });
  return handle;
}
