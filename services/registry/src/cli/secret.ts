// Reading a password: all of stdin (--password-stdin, one trailing newline dropped), or
// a prompt on the terminal with the input hidden (asked twice to catch typos).
import { usageError } from "./errors.js";

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    let value = "";
    const finish = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003") return finish(usageError("cancelled"));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
  });
}

export async function readSecret(
  prompt: string,
  { fromStdin, confirm }: { fromStdin: boolean; confirm: boolean },
): Promise<string> {
  if (fromStdin) {
    const value = await readAllStdin();
    if (!value) throw usageError("--password-stdin: standard input was empty");
    return value;
  }
  if (!process.stdin.isTTY)
    throw usageError("no terminal to prompt for the password on: pipe it in with --password-stdin");
  const first = await promptHidden(prompt);
  if (!first) throw usageError("the password is empty");
  if (confirm && (await promptHidden("Again: ")) !== first) throw usageError("the passwords did not match");
  return first;
}
