// Micro-benchmark: what the authenticated bus adds to each message (docs/design.md,
// "Authenticated bus") — sealing a revocation event and opening it on a pod, with the reply
// sealed and opened back — against the plain in-process bus, same process, same payload.
// Run: node --conditions=@signet/source --import tsx bench/bus-mac.ts
import { pathToFileURL } from "node:url";
import { LocalBus, SUBJECTS } from "@signet/shared/bus";
import { AuthenticatedBus } from "@signet/shared/bus-auth";
import { keyring } from "@signet/test-support/keys";

export interface BusMacResult {
  name: string;
  messages: number;
  usPerMessage: number;
}

async function roundTrips(bus: LocalBus | AuthenticatedBus, messages: number): Promise<number> {
  const payload = { key: "ck_0123456789abcdef", at: new Date().toISOString(), reason: "bench", actor: "ops" };
  for (let i = 0; i < 2_000; i++) await bus.gather(SUBJECTS.consumerRevoked, payload, { windowMs: 1_000 });
  const start = process.hrtime.bigint();
  for (let i = 0; i < messages; i++) await bus.gather(SUBJECTS.consumerRevoked, payload, { windowMs: 1_000 });
  return Number(process.hrtime.bigint() - start) / 1000 / messages;
}

export async function run(options: { messages?: number } = {}): Promise<BusMacResult[]> {
  const messages = options.messages ?? 20_000;
  const reply = () => ({ pod: "bench-pod", subject: SUBJECTS.consumerRevoked, evicted: true });
  const plain = new LocalBus();
  plain.subscribe(SUBJECTS.consumerRevoked, reply);
  const inner = new LocalBus();
  const sender = new AuthenticatedBus(inner, { keyring });
  new AuthenticatedBus(inner, { keyring }).subscribe(SUBJECTS.consumerRevoked, reply);
  const plainUs = await roundTrips(plain, messages);
  const sealedUs = await roundTrips(sender, messages);
  return [
    { name: "event + confirmation, plain in-process bus", messages, usPerMessage: plainUs },
    { name: "event + confirmation, authenticated (2 seals, 2 opens)", messages, usPerMessage: sealedUs },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await run()) console.log(`${r.name}: ${r.usPerMessage.toFixed(2)} µs per round trip`);
}
