export * from "./errors.js";
export * from "./observability.js";
export * from "./server.js";
export * from "./bus-plugin.js";
