// `npm run start:frontend`: production mode, configured only by the environment.
import { runServer } from "@signet/shared/http";
import { buildFrontendApp } from "./app.js";
import { loadFrontendConfig } from "./config.js";

await runServer({
  name: "frontend",
  loadConfig: () => loadFrontendConfig(),
  build: (config) => buildFrontendApp({ config }),
});
