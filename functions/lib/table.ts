/**
 * DynamoDB access through the aggregated client interface, so the DAX client (same method
 * names, no `send()`) and the DynamoDB client are interchangeable. DAX is loaded only when a
 * DAX endpoint is configured, and any DAX failure falls back to DynamoDB. Every call has a
 * deadline, retries included: a table that accepts connections and never answers costs a request
 * at most that long, then a TableUnavailableError (503), and frees the socket.
 */
import type {
  DeleteItemCommandInput, DeleteItemCommandOutput, DescribeTableCommandInput, DescribeTableCommandOutput,
  GetItemCommandInput, GetItemCommandOutput, PutItemCommandInput, PutItemCommandOutput, QueryCommandInput,
  QueryCommandOutput, UpdateItemCommandInput, UpdateItemCommandOutput,
} from "@aws-sdk/client-dynamodb";
import { DynamoDB as DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { withDeadline } from "./deadline";
import { isUnreachable, TableUnavailableError } from "./errors";
import { errorFields, log } from "./log";

/** Per-call options the SDK's aggregated client accepts (an abort signal ends the call at once). */
export interface CallOptions {
  /** Aborts the call (its socket is destroyed). */
  readonly abortSignal?: AbortSignal;
}

/**
 * The methods the handlers use; both the aggregated `DynamoDB` client and DAX's `Dax` provide
 * them (their promise overloads; the SDK types also declare callback overloads).
 */
export interface ItemApi {
  /** GetItem. */
  getItem(input: GetItemCommandInput, options?: CallOptions): Promise<GetItemCommandOutput>;
  /** Query. */
  query(input: QueryCommandInput, options?: CallOptions): Promise<QueryCommandOutput>;
  /** PutItem. */
  putItem(input: PutItemCommandInput, options?: CallOptions): Promise<PutItemCommandOutput>;
  /** UpdateItem. */
  updateItem(input: UpdateItemCommandInput, options?: CallOptions): Promise<UpdateItemCommandOutput>;
  /** DeleteItem. */
  deleteItem(input: DeleteItemCommandInput, options?: CallOptions): Promise<DeleteItemCommandOutput>;
  /** DescribeTable. */
  describeTable(input: DescribeTableCommandInput, options?: CallOptions): Promise<DescribeTableCommandOutput>;
}

type Input<K extends keyof ItemApi> = Parameters<ItemApi[K]>[0];
type Output<K extends keyof ItemApi> = Awaited<ReturnType<ItemApi[K]>>;
type Call<K extends keyof ItemApi> = (input: Input<K>, options?: CallOptions) => Promise<Output<K>>;

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

/** Options of a {@link TableClient}. */
export interface TableClientOptions {
  /** The DynamoDB client. */
  readonly dynamoDb: ItemApi;
  /** DAX client; absent when no DAX endpoint is configured. */
  readonly dax?: ItemApi;
  /** Longest a DAX call may take before DynamoDB is asked instead. @default 300 */
  readonly daxTimeoutMs?: number;
  /** How long DAX is skipped after it failed. @default 5000 */
  readonly daxCooldownMs?: number;
  /**
   * Longest one DynamoDB call may take, retries included; then it is aborted and fails with a
   * {@link TableUnavailableError}.
   * @default Infinity (tests that inject a client); the runtime passes `TABLE_TIMEOUT_MS`
   */
  readonly deadlineMs?: number;
  /** Called when a call fell back from DAX to DynamoDB. */
  readonly onFallback?: (op: string, err: unknown) => void;
}

/** What the client knows about DAX right now (the health route reports it). */
export type DaxState = "not-configured" | "in-use" | "bypassed";

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

  /** DAX's state: not configured, in use, or bypassed after a failure (until its cooldown ends). */
  get daxState(): DaxState {
    if (!this.opts.dax) return "not-configured";
    return Date.now() < this.daxDownUntil ? "bypassed" : "in-use";
  }

  /** Eventually consistent reads go through DAX; strongly consistent ones straight to DynamoDB (DAX would pass them through anyway). */
  getItem(input: Input<"getItem">): Promise<Output<"getItem">> {
    return input.ConsistentRead ? this.direct("getItem", input) : this.viaDax("getItem", input);
  }

  /** Eventually consistent queries go through DAX; strongly consistent ones straight to DynamoDB. */
  query(input: Input<"query">): Promise<Output<"query">> {
    return input.ConsistentRead ? this.direct("query", input) : this.viaDax("query", input);
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
    return this.direct("describeTable", input);
  }

  /** Stops the DAX client's background cluster discovery and closes connections (tests, the local twin). */
  close(): void {
    (this.opts.dax as { shutdown?: () => void } | undefined)?.shutdown?.();
    (this.opts.dynamoDb as { destroy?: () => void }).destroy?.();
  }

  /** DynamoDB, within the deadline: at the deadline the call is aborted (freeing its socket) and fails as unavailable. */
  private async direct<K extends keyof ItemApi>(op: K, input: Input<K>): Promise<Output<K>> {
    const call = (this.opts.dynamoDb[op] as unknown as Call<K>).bind(this.opts.dynamoDb);
    const ms = this.opts.deadlineMs ?? Infinity;
    if (!Number.isFinite(ms)) return this.unavailableAs(call(input));
    const controller = new AbortController();
    return this.unavailableAs(withDeadline(call(input, { abortSignal: controller.signal }), ms, () => {
      controller.abort();
      return new TableUnavailableError("timeout", `DynamoDB ${op} did not answer within ${ms} ms`);
    }));
  }

  /**
   * A failure with no answer from DynamoDB (a socket error, the SDK's timeout or abort, a transport
   * error the SDK wrapped) as the one error the request boundary knows; DynamoDB's own answers
   * (they carry an HTTP status) and programming errors pass through to be classified as they are.
   */
  private async unavailableAs<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      const answered = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode !== undefined;
      const bug = err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError;
      if (err instanceof TableUnavailableError || answered || (bug && !isUnreachable(err))) throw err;
      throw new TableUnavailableError("unreachable", `DynamoDB cannot be reached: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  private async viaDax<K extends keyof ItemApi>(op: K, input: Input<K>): Promise<Output<K>> {
    const dax = this.opts.dax;
    if (!dax || Date.now() < this.daxDownUntil) return this.direct(op, input);
    try {
      const ms = this.opts.daxTimeoutMs ?? 300;
      return await withDeadline((dax[op] as unknown as Call<K>).call(dax, input), ms, () => new Error(`DAX ${op} timed out after ${ms} ms`));
    } catch (err) {
      if (err instanceof Error && REQUEST_ERRORS.has(err.name)) throw err;
      this.daxDownUntil = Date.now() + (this.opts.daxCooldownMs ?? 5000);
      this.opts.onFallback?.(op, err);
      log("warn", "DAX call failed; using DynamoDB", { op, ...errorFields(err) });
      return this.direct(op, input);
    }
  }
}

/** Where the table is and how long a call to it may take. */
export interface TableConnection {
  /** Region of the clients. */
  readonly region: string;
  /** DynamoDB endpoint override (the local twin, tests). */
  readonly dynamoDbEndpoint?: string;
  /** DAX discovery endpoint, when DAX fronts the table. */
  readonly daxEndpoint?: string;
  /** Longest one call may take, retries included. @default 2500 */
  readonly tableTimeoutMs?: number;
}

/**
 * The DynamoDB client of the container. Its per-attempt timeouts leave room for a retry inside
 * the call's deadline; `throwOnRequestTimeout` makes the SDK end a hung attempt instead of only
 * warning (the deadline in {@link TableClient} ends the call whatever SDK version Lambda provides).
 */
export function createDynamoDb(conn: TableConnection): DynamoDBClient {
  const deadline = conn.tableTimeoutMs ?? 2_500;
  return new DynamoDBClient({
    region: conn.region,
    endpoint: conn.dynamoDbEndpoint,
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: Math.min(1_000, Math.ceil(deadline / 3)),
      requestTimeout: Math.ceil(deadline / 2),
      throwOnRequestTimeout: true,
    },
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

/** The table client of the container: DynamoDB with its deadline, and DAX in front when configured. */
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
  return new TableClient({ dynamoDb, dax, onFallback, deadlineMs: conn.tableTimeoutMs ?? 2_500 });
}
