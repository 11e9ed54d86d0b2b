// `npm run start:registry`: production mode, configured only by the environment.
import { runServer } from "@signet/shared/http";
import { buildRegistryApp } from "./app.js";
import { loadRegistryConfig } from "./config.js";

await runServer({
  name: "registry",
  loadConfig: () => loadRegistryConfig(),
  build: (config) => buildRegistryApp({ config }),
});
