/**
 * The stack's DynamoDB tables in an in-process dynalite (memory only):
 *   const db = await startDynamo(model.tables);  …  db.endpoint  …  await db.stop();
 * dynalite has no TimeToLive, so the twin deletes expired items itself (see `sweepExpired`).
 */
import {
  CreateTableCommand, CreateTableCommandInput, DeleteItemCommand, DynamoDBClient, ScanCommand,
} from "@aws-sdk/client-dynamodb";
import type { Server } from "http";
import type { AddressInfo } from "net";
import { FAKE_CREDENTIALS } from "./local";
import { IndexDef, TableDef } from "./stack";

export interface DynamoHandle {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Deletes items whose TTL attribute (epoch seconds) is in the past; returns how many. */
  sweepExpired(nowSeconds?: number): Promise<number>;
  stop(): Promise<void>;
}

export function createTableInput(t: TableDef): CreateTableCommandInput {
  const key = (hash: string, range?: string) => [
    { AttributeName: hash, KeyType: "HASH" as const },
    ...(range ? [{ AttributeName: range, KeyType: "RANGE" as const }] : []),
  ];
  const projection = (i: IndexDef) => ({
    ProjectionType: i.projectionType as "ALL" | "KEYS_ONLY" | "INCLUDE",
    ...(i.projectionType === "INCLUDE" && i.nonKeyAttributes ? { NonKeyAttributes: i.nonKeyAttributes } : {}),
  });
  return {
    TableName: t.name,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: t.attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: key(t.hashKey, t.rangeKey),
    GlobalSecondaryIndexes: t.globalSecondaryIndexes.length
      ? t.globalSecondaryIndexes.map((i) => ({ IndexName: i.name, KeySchema: key(i.hashKey, i.rangeKey), Projection: projection(i) }))
      : undefined,
    LocalSecondaryIndexes: t.localSecondaryIndexes.length
      ? t.localSecondaryIndexes.map((i) => ({ IndexName: i.name, KeySchema: key(i.hashKey, i.rangeKey), Projection: projection(i) }))
      : undefined,
  };
}

export async function startDynamo(tables: readonly TableDef[]): Promise<DynamoHandle> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require("dynalite") as (opts: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
    maxAttempts: 2,
  });
  for (const t of tables) await client.send(new CreateTableCommand(createTableInput(t)));

  const sweepExpired = async (nowSeconds = Date.now() / 1000): Promise<number> => {
    let deleted = 0;
    for (const t of tables) {
      if (!t.ttlAttribute) continue;
      let start: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({
          TableName: t.name,
          ExclusiveStartKey: start,
          FilterExpression: "#ttl < :now",
          ExpressionAttributeNames: { "#ttl": t.ttlAttribute },
          ExpressionAttributeValues: { ":now": { N: String(Math.floor(nowSeconds)) } },
        }));
        for (const item of page.Items ?? []) {
          const Key = { [t.hashKey]: item[t.hashKey], ...(t.rangeKey ? { [t.rangeKey]: item[t.rangeKey] } : {}) };
          await client.send(new DeleteItemCommand({ TableName: t.name, Key }));
          deleted++;
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }
    return deleted;
  };

  return {
    endpoint,
    client,
    sweepExpired,
    stop: async () => {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
