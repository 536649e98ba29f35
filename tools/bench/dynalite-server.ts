/**
 * dynalite in its own process for the benchmark (DynamoDB is remote in production, so the
 * handler's process should not also pay for the table): creates the products table and a cache
 * table (partition key `pk`), then prints `ready: <endpoint>`. Exits when its parent goes away.
 *   node dist/tools/bench/dynalite-server.js
 */
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Server } from "http";
import type { AddressInfo } from "net";

export const PRODUCTS_TABLE = "products";
export const CACHE_TABLE = "cache";

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require("dynalite") as (opts: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "fake", secretAccessKey: "fake" } });
  await client.send(new CreateTableCommand({
    TableName: PRODUCTS_TABLE,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [{ AttributeName: "productId", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "productId", KeyType: "HASH" }],
  }));
  await client.send(new CreateTableCommand({
    TableName: CACHE_TABLE,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
  }));
  client.destroy();
  process.stdout.write(`ready: ${endpoint}\n`);
  // The parent's end of stdin closes when it exits (even on SIGKILL): then stop.
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`dynalite-server: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
