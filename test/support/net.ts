// Loopback networking helpers for tests: free ports, waiting for a listener, and a TCP
// proxy a test can cut and restore (PostgreSQL or NATS "unreachable") or slow down.
import net from "node:net";
import { waitFor } from "./wait.js";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when something accepts a TCP connection on host:port within `timeoutMs`. */
export function answers(port: number, host = "127.0.0.1", timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}

export function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  return waitFor(`a listener on 127.0.0.1:${port}`, () => answers(port), timeoutMs, 50);
}

export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Drops every open connection and refuses new ones. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 to targetHost:targetPort that a test can cut and restore;
 * with `delayMs`, every chunk from the target reaches the client that much later (order kept).
 */
export async function startTcpProxy(
  targetPort: number,
  targetHost = "127.0.0.1",
  options: { delayMs?: number } = {},
): Promise<TcpProxy> {
  const { delayMs = 0 } = options;
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    const forget = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", forget).on("close", forget);
    client.pipe(upstream);
    if (delayMs > 0) {
      upstream.on("data", (chunk) => setTimeout(() => client.writable && client.write(chunk), delayMs));
      upstream.on("error", forget).on("close", () => setTimeout(forget, delayMs));
    } else {
      upstream.pipe(client);
      upstream.on("error", forget).on("close", forget);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    via: (url) => {
      const u = new URL(url);
      u.host = `127.0.0.1:${port}`;
      return u.toString();
    },
    cut: () => {
      open = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore: () => {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        open = false;
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
