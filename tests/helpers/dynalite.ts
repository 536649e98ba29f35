/**
 * An in-process DynamoDB (dynalite, in memory) for tests:
 * `const d = await startDynalite(); await d.createTable({...}); const c = d.client(); ... await d.stop();`
 */
import { CreateTableCommand, CreateTableCommandInput, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { AddressInfo } from "net";
import type { Server } from "http";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (opts: Record<string, unknown>) => Server = require("dynalite");

export interface DynaliteHandle {
  readonly endpoint: string;
  readonly port: number;
  /** A client with fake credentials (region us-east-1) pointed at this dynalite. */
  client(): DynamoDBClient;
  createTable(params: CreateTableCommandInput): Promise<void>;
  stop(): Promise<void>;
}

// The SDK nags about Node versions on every client; noise only in tests.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export function dynamoDbClientFor(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "fake", secretAccessKey: "fake" },
    maxAttempts: 1,
  });
}

export async function startDynalite(): Promise<DynaliteHandle> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: DynamoDBClient[] = [];
  const client = (): DynamoDBClient => {
    const c = dynamoDbClientFor(endpoint);
    clients.push(c);
    return c;
  };
  return {
    endpoint,
    port,
    client,
    createTable: async (params) => {
      const c = dynamoDbClientFor(endpoint);
      try {
        await c.send(new CreateTableCommand(params));
      } finally {
        c.destroy();
      }
    },
    stop: async () => {
      for (const c of clients) c.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
