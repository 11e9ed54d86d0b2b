export * from "./config.js";
export * from "./crypto.js";
export * from "./passwords.js";
export * from "./bus.js";
export * from "./logging.js";
export * from "./db/index.js";
export * from "./http/index.js";
export * from "./oauth/types.js";
