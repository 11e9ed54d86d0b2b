// Production entry point: `npm run start:data` (or `node services/data/dist/server.js`).
// SIGNET_DRAIN_DELAY_MS: on SIGTERM, /readyz answers 503 this long before the server stops
// accepting (docs/design.md, "Drain on SIGTERM").
import { runServer } from "@signet/shared/http";
import { buildDataApp } from "./app.js";
import { loadDataConfig } from "./config.js";

await runServer({
  name: "data",
  loadConfig: () => loadDataConfig(),
  build: (config) => buildDataApp({ config }),
});
