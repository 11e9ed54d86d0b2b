// signetctl's entry point (bin/signetctl.js runs this, compiled or through tsx).
import { main } from "./cli.js";
import { escapeControls } from "./output.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const text = (error as Error)?.stack ?? String(error);
    console.error(`signetctl: unexpected error: ${escapeControls(text, true)}`);
    process.exitCode = 1;
  },
);
