// The Docker side of `npm run test:image` (test/image/images.test.ts): the client, an engine
// (started here only when none answers, and then stopped here), the base image (the official
// one, or the local one scripts/make-base-image.sh makes where Docker Hub cannot be reached),
// builds with their cache report, and hardened containers on the host network.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, stopChild } from "@signet/test-support/processes";
import { waitFor } from "@signet/test-support/wait";

/**
 * The docker client. Debian's docker.io client (/usr/bin/docker) has BuildKit built in; a
 * newer client without the buildx plugin falls back to the legacy builder, which lacks the
 * Dockerfile's `RUN --mount=type=cache`. SIGNET_DOCKER names another.
 */
export const DOCKER =
  process.env.SIGNET_DOCKER ?? (existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker");
const DOCKERD = process.env.SIGNET_DOCKERD ?? "/usr/sbin/dockerd";
/** What scripts/make-base-image.sh tags by default. */
export const LOCAL_NODE_IMAGE = "signet-local/node:22-bookworm-slim";

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command`; never throws for a non-zero exit (see must()). `env` adds to this process's. */
export function exec(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; input?: Buffer; timeoutMs?: number; cwd?: string } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: [options.input ? "pipe" : "ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : undefined;
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.input) child.stdin!.end(options.input);
  });
}

/** exec() that throws, with the command's last output, unless it exits 0. */
export async function must(command: string, args: string[], options: Parameters<typeof exec>[2] = {}) {
  const result = await exec(command, args, options);
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split("\n").slice(-30).join("\n");
    throw new Error(
      `${path.basename(command)} ${args.slice(0, 3).join(" ")} … exited ${result.code}:\n${tail}`,
    );
  }
  return result;
}

export const docker = (args: string[], options?: Parameters<typeof exec>[2]) => must(DOCKER, args, options);

const engineAnswers = async () =>
  (await exec(DOCKER, ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 10_000 })).code === 0;

export interface Engine {
  /** True when this process started dockerd (and stop() will stop it). */
  started: boolean;
  stop(): Promise<void>;
}

/**
 * A Docker engine that answers: the running one, or dockerd started here the way that works
 * on these machines (overlay2, no bridge, no iptables: containers use the host network).
 */
export async function ensureEngine(): Promise<Engine> {
  if (await engineAnswers()) return { started: false, stop: async () => undefined };
  if (!existsSync(DOCKERD)) {
    throw new Error(
      `no Docker engine answers and ${DOCKERD} is missing: apt-get install docker.io iptables (.ci/run does)`,
    );
  }
  const logFile = path.join(tmpdir(), `signet-dockerd-${process.pid}.log`);
  const log = openSync(logFile, "a");
  const child = spawn(DOCKERD, ["--storage-driver=overlay2", "--bridge=none", "--iptables=false"], {
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  try {
    await waitFor(
      "dockerd to answer",
      async () => {
        if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}`);
        return engineAnswers();
      },
      60_000,
      500,
    );
  } catch (error) {
    await stopChild(child, "SIGTERM", 20_000);
    const tail = readFileSync(logFile, "utf8").trim().split("\n").slice(-15).join("\n");
    throw new Error(`${(error as Error).message}; ${logFile}:\n${tail}`);
  }
  return { started: true, stop: async () => void (await stopChild(child, "SIGTERM", 30_000)) };
}

export const imageExists = async (image: string) =>
  (await exec(DOCKER, ["image", "inspect", image], { timeoutMs: 10_000 })).code === 0;

/** The Dockerfile's default NODE_IMAGE (the official image). */
export function officialNodeImage(): string {
  const match = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(path.join(ROOT, "Dockerfile"), "utf8"));
  if (!match) throw new Error("the Dockerfile has no `ARG NODE_IMAGE=<default>` line");
  return match[1]!;
}

/**
 * The NODE_IMAGE to build on: SIGNET_NODE_IMAGE; else the official image, present or
 * pulled; else the local one scripts/make-base-image.sh makes (or made before).
 */
export async function nodeImage(): Promise<{ image: string; source: string }> {
  if (process.env.SIGNET_NODE_IMAGE)
    return { image: process.env.SIGNET_NODE_IMAGE, source: "SIGNET_NODE_IMAGE" };
  const official = officialNodeImage();
  if (await imageExists(official)) return { image: official, source: "official, present" };
  const pull = await exec(DOCKER, ["pull", official], { timeoutMs: 180_000 });
  if (pull.code === 0) return { image: official, source: "official, pulled" };
  const made = !(await imageExists(LOCAL_NODE_IMAGE));
  await must("bash", [path.join(ROOT, "scripts/make-base-image.sh"), LOCAL_NODE_IMAGE], {
    env: { DOCKER },
    timeoutMs: 20 * 60_000,
  });
  return {
    image: LOCAL_NODE_IMAGE,
    source: `local (${official} cannot be pulled: ${pull.stderr.trim().split("\n").pop()}); ${made ? "made now" : "made before"} by scripts/make-base-image.sh`,
  };
}

export interface Build {
  ms: number;
  output: string;
  /** Whether the step whose name matches `step` was taken from the cache (undefined: no such step). */
  cached(step: RegExp): boolean | undefined;
}

/** `docker build` with BuildKit, plain progress kept for the cache report. */
export async function build(options: {
  context: string;
  target: string;
  tag: string;
  nodeImage: string;
}): Promise<Build> {
  const previous = await exec(DOCKER, ["image", "inspect", "--format", "{{.Id}}", options.tag]);
  const started = performance.now();
  const result = await must(
    DOCKER,
    [
      "build",
      "--progress=plain",
      "--network=host",
      "--build-arg",
      `NODE_IMAGE=${options.nodeImage}`,
      "--target",
      options.target,
      "--tag",
      options.tag,
      options.context,
    ],
    { env: { DOCKER_BUILDKIT: "1" }, timeoutMs: 30 * 60_000 },
  );
  const ms = performance.now() - started;
  const output = result.stderr + result.stdout;
  // the tag's image of an earlier run, now untagged: removed, so runs do not pile images up
  const old = previous.code === 0 ? previous.stdout.trim() : "";
  if (
    old &&
    !(await exec(DOCKER, ["image", "inspect", "--format", "{{.Id}}", options.tag])).stdout.includes(old)
  ) {
    await exec(DOCKER, ["image", "rm", old]);
  }
  return {
    ms,
    output,
    cached: (step) => {
      const ids = [...output.matchAll(/^#(\d+) \[([^\]]+)\] (.*)$/gm)]
        .filter((m) => step.test(`[${m[2]}] ${m[3]}`))
        .map((m) => m[1]);
      if (!ids.length) return undefined;
      return ids.every((id) => new RegExp(`^#${id} CACHED$`, "m").test(output));
    },
  };
}

/** The image's size in bytes (what `docker image inspect` reports). */
export async function imageSize(image: string): Promise<number> {
  return Number((await docker(["image", "inspect", "--format", "{{.Size}}", image])).stdout.trim());
}

/**
 * How every runtime container runs here, as the chart runs its pods: read-only root
 * filesystem, uid 10001, no capabilities, no privilege gain; the host network (this
 * engine has no bridge), so a container reaches 127.0.0.1 like any local process.
 */
export const HARDENED = [
  "--read-only",
  "--user",
  "10001:10001",
  "--cap-drop",
  "ALL",
  "--security-opt",
  "no-new-privileges",
  "--network",
  "host",
];

/**
 * `docker run` arguments for `env`: names only (`-e NAME`), the values reach the client
 * through its own environment, so no secret shows in a process listing.
 */
export function envArgs(env: Record<string, string>): string[] {
  return Object.keys(env).flatMap((name) => ["-e", name]);
}
