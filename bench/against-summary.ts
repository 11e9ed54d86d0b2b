// The table bench/against.sh prints: each bench/http.ts figure of this tree and of the
// earlier commit, run by run, and their ratio (this tree's summed over that commit's summed).
//   node --import tsx bench/against-summary.ts <dir of there-N.json / here-N.json> <commit> <runs>
import { readFileSync } from "node:fs";

const [dir, commit, runs] = process.argv.slice(2);
interface Cpu {
  server: number;
  postgres: number;
}
interface HttpResult {
  me: Record<"signed" | "jwt" | "unsigned", { requestsPerSec: number; cpuUsPerRequest: Cpu }> & {
    signedClaims: { meanBatch: number; postgresUsPerCall: number };
  };
}
if (!dir || !commit || !runs) throw new Error("usage: against-summary.ts <dir> <commit> <runs>");
const load = (side: string): HttpResult[] =>
  Array.from({ length: Number(runs) }, (_, i) =>
    JSON.parse(readFileSync(`${dir}/${side}-${i + 1}.json`, "utf8")),
  );
const there = load("there");
const here = load("here");

type Pick = (r: HttpResult) => number;
const cpu =
  (route: "signed" | "jwt" | "unsigned", part: keyof Cpu): Pick =>
  (r) =>
    r.me[route].cpuUsPerRequest[part];
const figures: [string, Pick][] = [
  ["signed GET /me: data pod CPU µs/request", cpu("signed", "server")],
  ["signed GET /me: PostgreSQL CPU µs/request", cpu("signed", "postgres")],
  ["signed GET /me: req/s", (r) => r.me.signed.requestsPerSec],
  ["  nonces per claim call (mean batch)", (r) => r.me.signedClaims.meanBatch],
  ["  PostgreSQL CPU µs per claim call", (r) => r.me.signedClaims.postgresUsPerCall],
  ["JWT GET /me: data pod CPU µs/request", cpu("jwt", "server")],
  ["unsigned GET /me: data pod CPU µs/request", cpu("unsigned", "server")],
  ["signed ÷ JWT by throughput", (r) => r.me.signed.requestsPerSec / r.me.jwt.requestsPerSec],
  [
    "signed ÷ JWT by data pod CPU",
    (r) => r.me.jwt.cpuUsPerRequest.server / r.me.signed.cpuUsPerRequest.server,
  ],
];
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rows = figures.map(([name, pick]) => {
  const a = there.map(pick);
  const b = here.map(pick);
  return {
    figure: name,
    [commit]: a.map(fmt).join(" / "),
    "this tree": b.map(fmt).join(" / "),
    "ratio (means)": `${(mean(b) / mean(a)).toFixed(2)}×`,
  };
});
console.table(rows);
