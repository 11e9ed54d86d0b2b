// The master key every test and benchmark seals secrets with, and names no two tests share.
import { randomBytes } from "node:crypto";
import type { Bus } from "@signet/shared/bus";
import { AuthenticatedBus } from "@signet/shared/bus-auth";
import { Keyring } from "@signet/shared/crypto";

/** SIGNET_MASTER_KEY of the tests (base64 of 32 bytes): the form a spawned service reads. */
export const MASTER_KEY = Buffer.alloc(32, 7).toString("base64");
/** The same key, parsed: what a config built in-process carries. */
export const keyring = Keyring.fromEnv(MASTER_KEY);

// Test files run in parallel processes (and two runs may share a NATS server): a tag of this
// process keeps their names apart.
const processTag = randomBytes(2).toString("hex");
let counter = 0;
/** A name no other call returns, in this process or another: prefix + time + process tag + counter. */
export const unique = (prefix: string) =>
  `${prefix}${Date.now().toString(36)}${processTag}${(counter++).toString(36)}`;

/**
 * A bus as a Signet service holds it: every message sealed with the test master key's bus
 * MAC and every one received checked (what a test playing the registry or a pod needs).
 */
export const sealed = (bus: Bus) => new AuthenticatedBus(bus, { keyring });
