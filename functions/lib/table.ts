/**
 * DynamoDB access through the aggregated client interface, so the DAX client (same method
 * names, no `send()`) and the DynamoDB client are interchangeable. DAX is loaded only when a
 * DAX endpoint is configured, and any DAX failure falls back to DynamoDB.
 */
import type {
  DeleteItemCommandInput, DeleteItemCommandOutput, DescribeTableCommandInput, DescribeTableCommandOutput,
  GetItemCommandInput, GetItemCommandOutput, PutItemCommandInput, PutItemCommandOutput, QueryCommandInput,
  QueryCommandOutput, UpdateItemCommandInput, UpdateItemCommandOutput,
} from "@aws-sdk/client-dynamodb";
import { DynamoDB as DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { withDeadline } from "./deadline";
import { errorFields, log } from "./log";

/**
 * The methods the handlers use; both the aggregated `DynamoDB` client and DAX's `Dax` provide
 * them (their promise overloads; the SDK types also declare callback overloads).
 */
export interface ItemApi {
  /** GetItem. */
  getItem(input: GetItemCommandInput): Promise<GetItemCommandOutput>;
  /** Query. */
  query(input: QueryCommandInput): Promise<QueryCommandOutput>;
  /** PutItem. */
  putItem(input: PutItemCommandInput): Promise<PutItemCommandOutput>;
  /** UpdateItem. */
  updateItem(input: UpdateItemCommandInput): Promise<UpdateItemCommandOutput>;
  /** DeleteItem. */
  deleteItem(input: DeleteItemCommandInput): Promise<DeleteItemCommandOutput>;
  /** DescribeTable. */
  describeTable(input: DescribeTableCommandInput): Promise<DescribeTableCommandOutput>;
}

type Input<K extends keyof ItemApi> = Parameters<ItemApi[K]>[0];
type Output<K extends keyof ItemApi> = Awaited<ReturnType<ItemApi[K]>>;

/**
 * Errors DynamoDB (or DAX acting for it) returns about the request itself: retrying the same
 * call against DynamoDB would fail the same way (or, for conditional writes, apply twice).
 */
const REQUEST_ERRORS = new Set([
  "ConditionalCheckFailedException",
  "ValidationException",
  "ResourceNotFoundException",
  "TransactionCanceledException",
  "ItemCollectionSizeLimitExceededException",
]);

export interface TableClientOptions {
  readonly dynamoDb: ItemApi;
  /** DAX client; absent when no DAX endpoint is configured. */
  readonly dax?: ItemApi;
  /** Longest a DAX call may take before DynamoDB is asked instead. @default 300 */
  readonly daxTimeoutMs?: number;
  /** How long DAX is skipped after it failed. @default 5000 */
  readonly daxCooldownMs?: number;
  /** Called when a call fell back from DAX to DynamoDB. */
  readonly onFallback?: (op: string, err: unknown) => void;
}

/**
 * DynamoDB item access that goes through DAX when a DAX client is given and falls back to DynamoDB for `daxCooldownMs`
 * after any DAX failure or timeout (request errors such as a failed condition are not retried).
 */
export class TableClient {
  private daxDownUntil = 0;

  constructor(private readonly opts: TableClientOptions) {}

  /** True when a DAX client is configured. */
  get usesDax(): boolean {
    return !!this.opts.dax;
  }

  /** Eventually consistent reads go through DAX; strongly consistent ones straight to DynamoDB (DAX would pass them through anyway). */
  getItem(input: Input<"getItem">): Promise<Output<"getItem">> {
    if (input.ConsistentRead) return this.opts.dynamoDb.getItem(input);
    return this.viaDax("getItem", input);
  }

  /** Eventually consistent queries go through DAX; strongly consistent ones straight to DynamoDB. */
  query(input: Input<"query">): Promise<Output<"query">> {
    if (input.ConsistentRead) return this.opts.dynamoDb.query(input);
    return this.viaDax("query", input);
  }

  /** Writes go through DAX when present (write-through keeps its item cache fresh). */
  putItem(input: Input<"putItem">): Promise<Output<"putItem">> {
    return this.viaDax("putItem", input);
  }

  /** Through DAX when present (write-through). */
  updateItem(input: Input<"updateItem">): Promise<Output<"updateItem">> {
    return this.viaDax("updateItem", input);
  }

  /** Through DAX when present (write-through). */
  deleteItem(input: Input<"deleteItem">): Promise<Output<"deleteItem">> {
    return this.viaDax("deleteItem", input);
  }

  /** Always DynamoDB (DAX has no control plane); the health route uses it. */
  describeTable(input: Input<"describeTable">): Promise<Output<"describeTable">> {
    return this.opts.dynamoDb.describeTable(input);
  }

  /** Stops the DAX client's background cluster discovery and closes connections (tests, the local twin). */
  close(): void {
    (this.opts.dax as { shutdown?: () => void } | undefined)?.shutdown?.();
    (this.opts.dynamoDb as { destroy?: () => void }).destroy?.();
  }

  private async viaDax<K extends keyof ItemApi>(op: K, input: Input<K>): Promise<Output<K>> {
    const ddb = this.opts.dynamoDb as unknown as Record<K, (i: Input<K>) => Promise<Output<K>>>;
    const dax = this.opts.dax as unknown as Record<K, (i: Input<K>) => Promise<Output<K>>> | undefined;
    if (!dax || Date.now() < this.daxDownUntil) return ddb[op].call(this.opts.dynamoDb, input);
    try {
      const ms = this.opts.daxTimeoutMs ?? 300;
      return await withDeadline(dax[op].call(this.opts.dax, input), ms, () => new Error(`DAX ${op} timed out after ${ms} ms`));
    } catch (err) {
      if (err instanceof Error && REQUEST_ERRORS.has(err.name)) throw err;
      this.daxDownUntil = Date.now() + (this.opts.daxCooldownMs ?? 5000);
      this.opts.onFallback?.(op, err);
      log("warn", "DAX call failed; using DynamoDB", { op, ...errorFields(err) });
      return ddb[op].call(this.opts.dynamoDb, input);
    }
  }
}

export interface TableConnection {
  readonly region: string;
  readonly dynamoDbEndpoint?: string;
  readonly daxEndpoint?: string;
}

/** The DynamoDB client of the container (timeouts short enough to answer 503 in time). */
export function createDynamoDb(conn: TableConnection): DynamoDBClient {
  return new DynamoDBClient({
    region: conn.region,
    endpoint: conn.dynamoDbEndpoint,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
  });
}

/**
 * Loads the DAX client. A `require` inside a function, so the module (and its parser and
 * codecs) is evaluated only when a DAX endpoint is configured.
 */
export function loadDax(endpoint: string, region: string): ItemApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Dax } = require("@amazon-dax-sdk/client-dax") as { Dax: new (cfg: { endpoints: string[]; region: string }) => ItemApi };
  return new Dax({ endpoints: [endpoint], region });
}

export function createTableClient(conn: TableConnection, onFallback?: TableClientOptions["onFallback"]): TableClient {
  const dynamoDb = createDynamoDb(conn);
  let dax: ItemApi | undefined;
  if (conn.daxEndpoint) {
    try {
      dax = loadDax(conn.daxEndpoint, conn.region);
    } catch (err) {
      log("warn", "DAX client could not start; using DynamoDB", errorFields(err));
    }
  }
  return new TableClient({ dynamoDb, dax, onFallback });
}
