// `npm run start:frontend` (or `node services/frontend/dist/server.js`): production mode,
// configured only by the environment (docs/api.md, "Frontend settings").
import { runServer } from "@signet/shared/http";
import { buildFrontendApp } from "./app.js";
import { loadFrontendConfig } from "./config.js";

await runServer({
  name: "frontend",
  loadConfig: () => loadFrontendConfig(),
  build: (config) => buildFrontendApp({ config }),
});
