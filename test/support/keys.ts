// The master key every test and benchmark seals secrets with, and names no two tests share.
import { Keyring } from "@signet/shared/crypto";

/** SIGNET_MASTER_KEY of the tests (base64 of 32 bytes): the form a spawned service reads. */
export const MASTER_KEY = Buffer.alloc(32, 7).toString("base64");
/** The same key, parsed: what a config built in-process carries. */
export const keyring = Keyring.fromEnv(MASTER_KEY);

let counter = 0;
/** A name no other call in this process returns: prefix + time + counter (base 36). */
export const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;
