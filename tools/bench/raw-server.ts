/**
 * The HTTP baseline of the benchmark: the least a server can do to answer from Redis — parse the
 * request, one ioredis GET of a fixed key, write the value. Prints `ready: <url>`.
 *   node dist/tools/bench/raw-server.js --redis-port 6379 --key 'bench:{product:hot}'
 */
import { createServer } from "http";
import type { AddressInfo } from "net";
import { parseArgs } from "util";
import Redis from "ioredis";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "redis-port": { type: "string" }, key: { type: "string" } } });
  const redis = new Redis({ host: "127.0.0.1", port: Number(values["redis-port"]), maxRetriesPerRequest: 1 });
  const key = values.key!;
  const server = createServer((req, res) => {
    redis.get(key).then(
      (v) => {
        res.writeHead(v === null ? 404 : 200, { "content-type": "application/json" });
        res.end(v ?? "{}");
      },
      () => {
        res.writeHead(503);
        res.end();
      },
    );
    req.resume();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  process.stdout.write(`ready: http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
  process.on("SIGTERM", () => process.exit(0));
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`raw-server: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
