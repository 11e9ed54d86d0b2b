// vitest global setup: resolve PostgreSQL and NATS once, hand them to every test file.
import type { TestProject } from "vitest/node";
import { resolveTestServices } from "./services.js";

import "./provided.js";

export default async function setup(project: TestProject) {
  const services = await resolveTestServices();
  project.provide("databaseUrl", services.databaseUrl);
  project.provide("natsUrl", services.natsUrl);
  console.log(
    `test services: PostgreSQL at ${redact(services.databaseUrl)} (${services.sources.databaseUrl}), NATS at ${services.natsUrl} (${services.sources.natsUrl})`,
  );
  return () => services.stop();
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, "//$1:***@");
}
