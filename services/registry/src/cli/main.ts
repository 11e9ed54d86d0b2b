// signetctl's entry point (bin/signetctl.js runs this, compiled or through tsx).
import { main } from "./cli.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`signetctl: unexpected error: ${(error as Error)?.stack ?? String(error)}`);
    process.exitCode = 1;
  },
);
