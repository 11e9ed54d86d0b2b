// The signer's nonces: drawn from a pooled CSPRNG buffer, so check they stay well-formed and
// distinct across many refills of the pool (4 KiB = 128 nonces per refill).
import { expect, it } from "vitest";
import { randomNonce } from "../../src/oauth/index.js";

it("randomNonce gives 32 alphanumeric characters, all distinct across pool refills", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const nonce = randomNonce();
    expect(nonce).toMatch(/^[A-Za-z0-9]{32}$/);
    seen.add(nonce);
  }
  // a pool reused instead of refilled would repeat after 128 nonces
  expect(seen.size).toBe(10_000);
});
