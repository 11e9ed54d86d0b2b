export * from "./users.js";
export * from "./tokens.js";
export * from "./consumers.js";
export * from "./outbox.js";
export * from "./audit.js";
export * from "./notes.js";
export * from "./throttle.js";
