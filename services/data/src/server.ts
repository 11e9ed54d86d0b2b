// Production entry point: `npm run start:data` (or `node services/data/dist/server.js`).
import { runServer } from "@signet/shared/http";
import { buildDataApp } from "./app.js";
import { loadDataConfig } from "./config.js";

await runServer({
  name: "data",
  loadConfig: loadDataConfig,
  build: (config) => buildDataApp({ config }),
  // SIGNET_DRAIN_DELAY_MS (config): on SIGTERM, /readyz answers 503 this long before the
  // server stops accepting, so a load balancer stops sending first; without it a request
  // can meet a keep-alive connection being closed (test/reliability/rolling-restart.test.ts).
});
