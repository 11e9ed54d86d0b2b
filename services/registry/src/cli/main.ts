// signetctl's entry point (bin/signetctl.js runs this, compiled or through tsx).
import { readFileSync } from "node:fs";
import { main } from "./cli.js";
import { escapeControls } from "./output.js";

const argv = process.argv.slice(2);

/** The registry package's version (src/cli/ and dist/cli/ both sit two levels below it). */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return manifest.version;
}

if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  process.stdout.write(`signetctl ${version()}\n`);
} else {
  run();
}

function run() {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const text = (error as Error)?.stack ?? String(error);
      console.error(`signetctl: unexpected error: ${escapeControls(text, true)}`);
      process.exitCode = 1;
    },
  );
}
