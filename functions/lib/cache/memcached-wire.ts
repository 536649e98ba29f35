/**
 * A minimal memcached client for the meta protocol (memcached ≥ 1.6; `mg`, `ms`, `md`, `mn`):
 * one connection, requests pipelined in order, replies matched first-in first-out.
 *
 * Why not an npm client: see the comment at the top of memcached.ts.
 *
 * Behaviour the cache store relies on:
 * - fail fast: only the very first connect is waited for (at most `connectTimeoutMs`); while a
 *   dropped connection is being re-established every request rejects at once, never queues;
 * - a request without a reply after `commandTimeoutMs` fails, and so does its connection: once a
 *   reply is missing, a later one could only be matched to the wrong request;
 * - reconnects run in the background with the same capped backoff as the Redis client.
 */
import * as net from "net";
import * as tls from "tls";
import { reconnectDelay } from "./connect";

/** One meta request: its command line (no CRLF) and, for `ms`, its data block. */
export interface MetaRequest {
  readonly line: string;
  readonly data?: Buffer;
}

/** One meta reply. */
export interface MetaReply {
  /** The two-letter return code: HD, VA, EN, NF, NS, EX or MN. */
  readonly code: string;
  /** Returned flags by letter, e.g. `{ f: "1", c: "7", t: "59" }` for `mg <key> f c t`. */
  readonly flags: Readonly<Record<string, string>>;
  /** The data block of a VA reply. */
  readonly value?: Buffer;
}

/** Where and how {@link MemcachedConnection} connects. */
export interface MemcachedConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** TLS: `true` with Node's trust store, or `tls.connect` options (e.g. `ca`). @default false */
  readonly tls?: boolean | Readonly<tls.ConnectionOptions>;
  /** Longest a request may wait for its reply. @default 150 */
  readonly commandTimeoutMs?: number;
  /** Longest a TCP/TLS connect may take. @default 1000 */
  readonly connectTimeoutMs?: number;
}

/** A reply of ERROR, CLIENT_ERROR or SERVER_ERROR: the server refused this one request. */
export class MemcachedServerError extends Error {
  constructor(readonly reply: string) {
    super(`memcached: ${reply}`);
    this.name = "MemcachedServerError";
  }
}

type State = "idle" | "connecting" | "ready" | "down" | "closed";

interface Pending {
  resolve(reply: MetaReply): void;
  reject(err: Error): void;
}

const CRLF = Buffer.from("\r\n");
const STATUS_CODES = new Set(["HD", "EN", "NF", "NS", "EX", "MN"]);

export class MemcachedConnection {
  private state: State = "idle";
  private socket?: net.Socket;
  /** The first connect, which requests wait for; later reconnects are not waited for. */
  private firstConnect?: Promise<void>;
  private attempts = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  /** The VA reply whose data block is still arriving. */
  private valueHead?: { readonly flags: Readonly<Record<string, string>>; readonly size: number };
  private readonly commandTimeoutMs: number;
  private readonly connectTimeoutMs: number;

  constructor(private readonly options: MemcachedConnectionOptions) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? 150;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1000;
  }

  private get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** True while a connection is up. */
  get ready(): boolean {
    return this.state === "ready";
  }

  /**
   * Sends `requests` in one write and resolves with their replies in order; rejects when any
   * reply is an error, the connection is not up, or a reply is late.
   */
  async send(requests: readonly MetaRequest[]): Promise<MetaReply[]> {
    if (requests.length === 0) return [];
    if (this.state === "idle") this.firstConnect = this.connect();
    // Bounded: the connect timer destroys a socket that is not up within connectTimeoutMs.
    if (this.firstConnect) await this.firstConnect;
    const socket = this.socket;
    if (this.state !== "ready" || !socket) throw new Error(`memcached ${this.address} is not connected (${this.state})`);

    const replies = requests.map(
      () =>
        new Promise<MetaReply>((resolve, reject) => {
          this.pending.push({ resolve, reject });
        }),
    );
    const all = Promise.all(replies);
    const chunks: Buffer[] = [];
    for (const r of requests) {
      chunks.push(Buffer.from(`${r.line}\r\n`, "latin1"));
      if (r.data) chunks.push(r.data, CRLF);
    }
    socket.write(Buffer.concat(chunks));
    const timer = setTimeout(() => {
      this.fail(socket, new Error(`memcached ${this.address}: no reply within ${this.commandTimeoutMs} ms`));
    }, this.commandTimeoutMs);
    try {
      return await all;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection and stops reconnecting; later requests reject. */
  async close(): Promise<void> {
    this.state = "closed";
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => socket.destroy(), 200);
      socket.once("close", () => {
        clearTimeout(force);
        resolve();
      });
      socket.end();
    });
  }

  private connect(): Promise<void> {
    this.state = "connecting";
    const { host, port } = this.options;
    const tlsOptions = this.options.tls;
    const socket = tlsOptions
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...(tlsOptions === true ? {} : tlsOptions) })
      : net.connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const connectTimer = setTimeout(() => socket.destroy(new Error(`memcached connect to ${this.address} took longer than ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
    let settle: { resolve(): void; reject(err: Error): void } | undefined;
    const connected = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    // Nobody may be waiting (a background reconnect): its failure is reported by the next request.
    connected.catch(() => undefined);
    let lastError: Error | undefined;

    socket.once(tlsOptions ? "secureConnect" : "connect", () => {
      clearTimeout(connectTimer);
      if (this.socket !== socket) return;
      this.state = "ready";
      this.attempts = 0;
      this.firstConnect = undefined;
      settle?.resolve();
    });
    socket.on("data", (chunk: Buffer) => this.receive(socket, chunk));
    socket.on("error", (err) => (lastError = err));
    socket.once("close", () => {
      clearTimeout(connectTimer);
      const err = new Error(`memcached ${this.address} connection closed${lastError ? `: ${lastError.message}` : ""}`);
      settle?.reject(err);
      this.dropped(socket, err);
    });
    return connected;
  }

  /** The socket is gone: fail what waited on it and reconnect in the background. */
  private dropped(socket: net.Socket, err: Error): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.buffer = Buffer.alloc(0);
    this.valueHead = undefined;
    for (const p of this.pending.splice(0)) p.reject(err);
    if (this.state === "closed") return;
    this.state = "down";
    this.firstConnect = undefined;
    this.reconnectTimer = setTimeout(() => {
      if (this.state === "down") this.connect();
    }, reconnectDelay(++this.attempts));
    // A cache must never keep a process alive just to reconnect.
    this.reconnectTimer.unref();
  }

  /** Ends a connection whose reply stream can no longer be trusted. */
  private fail(socket: net.Socket, err: Error): void {
    if (this.socket !== socket) return;
    // Requests between now and the close event must fail fast, not write to a dying socket.
    if (this.state === "ready") this.state = "down";
    for (const p of this.pending.splice(0)) p.reject(err);
    socket.destroy();
  }

  private receive(socket: net.Socket, chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.valueHead) {
        const { size, flags } = this.valueHead;
        if (this.buffer.length < size + 2) return;
        if (this.buffer[size] !== 13 || this.buffer[size + 1] !== 10) return this.fail(socket, new Error(`memcached ${this.address}: data block not followed by CRLF`));
        // Copied: the slice would otherwise pin the whole receive buffer.
        const value = Buffer.from(this.buffer.subarray(0, size));
        this.buffer = this.buffer.subarray(size + 2);
        this.valueHead = undefined;
        this.pending.shift()?.resolve({ code: "VA", flags, value });
        continue;
      }
      const end = this.buffer.indexOf(CRLF);
      if (end < 0) return;
      const line = this.buffer.toString("latin1", 0, end);
      this.buffer = this.buffer.subarray(end + 2);
      if (this.pending.length === 0) return this.fail(socket, new Error(`memcached ${this.address}: unexpected reply ${JSON.stringify(line.slice(0, 40))}`));
      if (/^(ERROR|CLIENT_ERROR|SERVER_ERROR)\b/.test(line)) {
        this.pending.shift()!.reject(new MemcachedServerError(line));
        continue;
      }
      const [code, ...rest] = line.split(" ");
      if (code === "VA") {
        const size = Number(rest[0]);
        if (!Number.isSafeInteger(size) || size < 0) return this.fail(socket, new Error(`memcached ${this.address}: bad VA size in ${JSON.stringify(line)}`));
        this.valueHead = { size, flags: parseFlags(rest.slice(1)) };
        continue;
      }
      if (!STATUS_CODES.has(code)) return this.fail(socket, new Error(`memcached ${this.address}: unknown reply ${JSON.stringify(line.slice(0, 40))}`));
      this.pending.shift()!.resolve({ code, flags: parseFlags(rest) });
    }
  }
}

function parseFlags(tokens: readonly string[]): Readonly<Record<string, string>> {
  const flags: Record<string, string> = {};
  for (const t of tokens) if (t) flags[t[0]] = t.slice(1);
  return flags;
}
