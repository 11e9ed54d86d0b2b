export * from "./schema.js";
export * from "./connect.js";
export * from "./migrate.js";
export * from "./pglite.js";
export * from "./plugin.js";
export { migrations } from "./migrations/index.js";
