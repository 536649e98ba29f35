/**
 * A real, throw-away memcached for tests: `const m = await startMemcached(); ... await m.stop();`
 * `kill()` simulates an outage (SIGKILL), `restart()` brings it back on the same port (empty).
 * With `tls`, it serves TLS only, with a fresh self-signed certificate for 127.0.0.1 (`ca`).
 */
import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { MemcachedConnection } from "../../functions/lib/cache/memcached-wire";
import { ServerProcessHandle, startServerProcess } from "./server-process";

export interface MemcachedServerHandle extends ServerProcessHandle {
  /** The certificate to trust (PEM) when started with `tls`. */
  readonly ca?: string;
}

export interface StartMemcachedOptions {
  /** Serve TLS only, with a self-signed certificate for 127.0.0.1. @default false */
  readonly tls?: boolean;
  /** Port to listen on. @default a free port */
  readonly port?: number;
}

/** One `mn` (meta no-op) on a fresh connection: true when the server answers MN. */
export async function memcachedAnswers(port: number, ca?: string, timeoutMs = 200): Promise<boolean> {
  const conn = new MemcachedConnection({ host: "127.0.0.1", port, tls: ca ? { ca } : false, commandTimeoutMs: timeoutMs, connectTimeoutMs: timeoutMs });
  try {
    return (await conn.send([{ line: "mn" }]))[0].code === "MN";
  } catch {
    return false;
  } finally {
    await conn.close();
  }
}

function selfSignedCertificate(dir: string): { cert: string; key: string; ca: string } {
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  const r = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`openssl could not make a test certificate (apt-get install -y openssl): ${r.stderr || r.error}`);
  return { cert, key, ca: readFileSync(cert, "utf8") };
}

export async function startMemcached(options: StartMemcachedOptions = {}): Promise<MemcachedServerHandle> {
  const dir = options.tls ? mkdtempSync(path.join(tmpdir(), "memcached-tls-")) : undefined;
  const certs = dir ? selfSignedCertificate(dir) : undefined;
  const tlsArgs = certs ? ["-Z", "-o", `ssl_chain_cert=${certs.cert},ssl_key=${certs.key}`] : [];
  // memcached refuses to run as root unless told which user to be (CI runs as root).
  const userArgs = process.getuid?.() === 0 ? ["-u", "root"] : [];
  const server = await startServerProcess({
    command: "memcached",
    installHint: "apt-get install -y memcached",
    args: (port) => ["-p", String(port), "-l", "127.0.0.1", "-U", "0", "-m", "64", "-t", "2", ...userArgs, ...tlsArgs],
    answers: (port) => memcachedAnswers(port, certs?.ca),
    port: options.port,
    onStop: () => dir && rmSync(dir, { recursive: true, force: true }),
  });
  return { ...server, ca: certs?.ca };
}
