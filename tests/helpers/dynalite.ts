/**
 * An in-process DynamoDB (dynalite, in memory) for tests, behind the twin's validating proxy by
 * default, so handler tests meet DynamoDB's limits (item size in UTF-8 bytes, nesting, key
 * sizes, expression and batch limits) rather than dynalite's looser ones:
 * `const d = await startDynalite(); await d.createTable({...}); const c = d.client(); ... await d.stop();`
 * `startDynalite({ validating: false })` talks to dynalite directly.
 */
import { CreateTableCommand, CreateTableCommandInput, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { startDynaliteServer } from "../../tools/twin/dynamo";

export interface DynaliteHandle {
  /** Where clients connect (the validating proxy unless it is off). */
  readonly endpoint: string;
  readonly port: number;
  /** dynalite itself, without the limit checks. */
  readonly upstream: string;
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

/** Starts dynalite; `validating` (default true) puts the twin's DynamoDB-limits proxy in front. */
export async function startDynalite(opts: { readonly validating?: boolean } = {}): Promise<DynaliteHandle> {
  const server = await startDynaliteServer(opts);
  const endpoint = server.endpoint;
  const port = Number(new URL(endpoint).port);
  const clients: DynamoDBClient[] = [];
  const client = (): DynamoDBClient => {
    const c = dynamoDbClientFor(endpoint);
    clients.push(c);
    return c;
  };
  return {
    endpoint,
    port,
    upstream: server.upstream,
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
      await server.stop();
    },
  };
}
