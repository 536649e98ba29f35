/**
 * A loopback TCP proxy that can hold back one request: it makes a race deterministic. A test arms
 * it for a command (`holdNext("ms ")`), lets the client send, does something else against the
 * server while that command is held, then releases it.
 */
import * as net from "net";

export interface GateProxy {
  readonly port: number;
  /**
   * Holds the next client→server chunk containing `marker` (and whatever follows it on that
   * connection, so order is kept); resolves once something is held.
   */
  holdNext(marker: string): Promise<void>;
  /** Sends what was held, in order, and stops holding. */
  release(): void;
  /** Closes the proxy and every connection through it. */
  close(): Promise<void>;
}

export async function startGateProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<GateProxy> {
  let armed: { marker: string; onHeld(): void } | undefined;
  let holding: { upstream: net.Socket; chunks: Buffer[] } | undefined;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect({ host: targetHost, port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    upstream.pipe(client);
    client.on("data", (chunk: Buffer) => {
      if (holding?.upstream === upstream) return void holding.chunks.push(chunk);
      if (armed && chunk.toString("latin1").includes(armed.marker)) {
        const { onHeld } = armed;
        armed = undefined;
        holding = { upstream, chunks: [chunk] };
        return onHeld();
      }
      upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    port,
    holdNext: (marker) => new Promise<void>((resolve) => (armed = { marker, onHeld: resolve })),
    release: () => {
      const h = holding;
      holding = undefined;
      if (h) for (const c of h.chunks) h.upstream.write(c);
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
