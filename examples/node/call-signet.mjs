#!/usr/bin/env node
// Calling Signet from Node with @signet/client (docs/calling-signet.md).
//
// Logs a user in (signed with the consumer only), reads GET /me and writes POST /notes (JSON)
// with the user's token, then prints the new note's id. Configured only by the environment:
//
//   SIGNET_DATA_URL          e.g. http://127.0.0.1:8000 (the data service, as it is signed for)
//   SIGNET_CONSUMER_KEY      this service's consumer (signetctl consumers create)
//   SIGNET_CONSUMER_SECRET
//   SIGNET_USERNAME          the user to log in
//   SIGNET_PASSWORD
//
// Exit 0 on success; otherwise 1 and "error: <code>: <message>" on stderr, <code> being the
// service's error code (signature_invalid, invalid_credentials, ...) or "unavailable".
//
// In your service: `npm install @signet/client`. In this repository the package is the
// services/client workspace: build it once (`npm run build -w @signet/client`), or run this
// file from its TypeScript sources with
// `node --import tsx --conditions=@signet/source examples/node/call-signet.mjs`.
/* global process, console */

const NAMES = [
  "SIGNET_DATA_URL",
  "SIGNET_CONSUMER_KEY",
  "SIGNET_CONSUMER_SECRET",
  "SIGNET_USERNAME",
  "SIGNET_PASSWORD",
];

async function main() {
  const missing = NAMES.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    console.error(`error: missing_setting: set ${missing.join(", ")}`);
    return 2;
  }
  let client;
  try {
    client = await import("@signet/client");
  } catch (error) {
    if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
    console.error(
      "error: missing_package: @signet/client is not built: run `npm run build -w @signet/client` first",
    );
    return 2;
  }
  const { createSignetClient, SignetApiError } = client;
  const signet = createSignetClient({
    baseUrl: process.env.SIGNET_DATA_URL,
    consumer: { key: process.env.SIGNET_CONSUMER_KEY, secret: process.env.SIGNET_CONSUMER_SECRET },
  });
  try {
    // 1. consumer only (two-legged): the user's token comes back
    const login = await signet.request("POST", "/authenticate", {
      form: { username: process.env.SIGNET_USERNAME, password: process.env.SIGNET_PASSWORD },
    });
    // 2. consumer + the user's token
    const token = { key: login.token, secret: login.secret };
    const me = await signet.request("GET", "/me", { token });
    const note = await signet.request("POST", "/notes", {
      token,
      json: { title: `Hello from Node, ${me.username}`, body: "signed with @signet/client" },
    });
    console.log(note.id);
    return 0;
  } catch (error) {
    if (!(error instanceof SignetApiError)) throw error;
    console.error(`error: ${error.code}: ${error.message}`);
    return 1;
  }
}

process.exitCode = await main();
