// Production entry point: `npm run start:data` (or `node services/data/dist/server.js`).
import { runServer } from "@signet/shared";
import { buildDataApp } from "./app.js";
import { loadDataConfig } from "./config.js";

await runServer({ name: "data", loadConfig: loadDataConfig, build: (config) => buildDataApp({ config }) });
