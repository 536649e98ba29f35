/**
 * The edge invalidator: a second consumer of a table's DynamoDB stream (beside the stream
 * invalidator, which clears the cache) that asks CloudFront to drop the edge copies a change made
 * stale. Each record's keys become paths through the fronted contract (`edgePathsOf`: the public
 * cached routes whose path parameters are the table's keys); a batch's paths, without duplicates,
 * go out in ONE CreateInvalidation. CloudFront bills per path (after the account's first 1,000 a
 * month), so a product written ten times in a batch costs one path.
 *
 * Retries: the call's CallerReference is a hash of the batch's sequence numbers, so when Lambda
 * retries the same batch CloudFront answers with the invalidation it already has (no second bill).
 * When CloudFront refuses or is unreachable, the batch's first record is reported
 * (ReportBatchItemFailures) and Lambda retries the batch; past the mapping's record age the edge
 * copy has expired by itself (s-maxage + stale-while-revalidate), so nothing is left to invalidate.
 * A record that names no path (another table's, no keys) is logged, counted and skipped.
 *
 * It runs outside the VPC: CloudFront's API has no VPC endpoint, and the cache is not its business.
 */
import { createHash } from "crypto";
import { CloudFrontClient, CreateInvalidationCommand } from "@aws-sdk/client-cloudfront";
import {
  ConfigError, CONNECTIONS, EDGE_ROUTE, EdgeInvalidatorContract, edgePathsOf, readSettings, RUNTIME_SETTINGS,
} from "./contract";
import { perContainer } from "./container";
import { errorFields, log } from "./log";
import { METRIC, RequestMetrics } from "./metrics";
import { keysOfRecord, StreamBatchResponse, StreamEvent, StreamRecord } from "./stream";

/** CloudFront's limit of paths in one invalidation (and in progress per distribution). */
export const MAX_PATHS_PER_INVALIDATION = 3_000;

const SETTINGS = {
  serviceName: RUNTIME_SETTINGS.serviceName,
  metricsNamespace: RUNTIME_SETTINGS.metricsNamespace,
  tableName: CONNECTIONS.tableName,
  distributionId: CONNECTIONS.edgeDistributionId,
  endpoint: CONNECTIONS.cloudfrontEndpoint,
} as const;

/** What the edge invalidator reads from its environment. */
export interface EdgeInvalidatorConfig {
  /** The metrics' `Service` dimension (the fronted function's). */
  readonly serviceName: string;
  /** The metrics' namespace (the fronted function's). */
  readonly metricsNamespace: string;
  /** The table whose stream this is: records of any other are refused. */
  readonly tableName: string;
  /** The distribution to invalidate. */
  readonly distributionId: string;
  /** CloudFront API endpoint override (the local twin). */
  readonly endpoint?: string;
}

/** The one CloudFront call the invalidator makes, as tests and the twin may replace it. */
export type CreateInvalidation = (distributionId: string, callerReference: string, paths: readonly string[]) => Promise<void>;

/** Overrides for tests: environment, and the CloudFront call. */
export interface EdgeInvalidatorDeps {
  /** Environment to read the configuration from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Sends an invalidation. @default CreateInvalidation through the AWS SDK (endpoint from `CLOUDFRONT_ENDPOINT`) */
  readonly createInvalidation?: CreateInvalidation;
}

/** The edge invalidator bound to its configuration. */
export type BoundEdgeInvalidator = ((event: unknown) => Promise<StreamBatchResponse>) & { readonly config: EdgeInvalidatorConfig };

/** Reads the configuration; a ConfigError names a missing or bad variable. */
export function loadEdgeInvalidatorConfig(env: Readonly<Record<string, string | undefined>>): EdgeInvalidatorConfig {
  const s = readSettings(SETTINGS, env);
  if (!s.distributionId) throw new ConfigError(SETTINGS.distributionId.env, "", "required: the distribution to invalidate");
  return { serviceName: s.serviceName, metricsNamespace: s.metricsNamespace, tableName: s.tableName, distributionId: s.distributionId, endpoint: s.endpoint };
}

/** CreateInvalidation through the AWS SDK (the Lambda runtime provides it: it is not bundled). */
function sdkInvalidation(config: EdgeInvalidatorConfig): CreateInvalidation {
  let client: CloudFrontClient | undefined;
  return async (distributionId, callerReference, paths) => {
    // CloudFront's control plane is global, signed for us-east-1 whatever the function's region.
    client ??= new CloudFrontClient({ region: "us-east-1", endpoint: config.endpoint, maxAttempts: 5 });
    await client.send(new CreateInvalidationCommand({
      DistributionId: distributionId,
      InvalidationBatch: { CallerReference: callerReference, Paths: { Quantity: paths.length, Items: [...paths] } },
    }));
  };
}

/** Paths of the records, deduplicated, and the records that named none (with why). */
function pathsOf(contract: EdgeInvalidatorContract, tableName: string, records: readonly StreamRecord[]): { paths: string[]; skipped: number } {
  const paths = new Set<string>();
  let skipped = 0;
  for (const record of records) {
    try {
      const keys = keysOfRecord(contract.fronts.table!, tableName, record);
      for (const p of edgePathsOf(contract.fronts, keys)) paths.add(p);
    } catch (err) {
      skipped++;
      log("error", "stream record names no edge path; skipped (its edge copy expires with s-maxage)", {
        sequenceNumber: record?.dynamodb?.SequenceNumber, ...errorFields(err),
      });
    }
  }
  return { paths: [...paths], skipped };
}

/** The CallerReference of a batch: the same batch retried is the same invalidation. */
function callerReference(records: readonly StreamRecord[]): string {
  const seqs = records.map((r) => r?.dynamodb?.SequenceNumber ?? "").join(",");
  return `cachefront-${createHash("sha256").update(seqs).digest("hex").slice(0, 40)}`;
}

async function invalidateBatch(contract: EdgeInvalidatorContract, config: EdgeInvalidatorConfig, send: CreateInvalidation, event: unknown): Promise<StreamBatchResponse> {
  const records = (event as StreamEvent | undefined)?.Records;
  if (!Array.isArray(records)) throw new TypeError("not a DynamoDB Streams event: no Records array");
  const metrics = new RequestMetrics(config.metricsNamespace, config.serviceName);
  metrics.setRoute(EDGE_ROUTE);
  try {
    const { paths, skipped } = pathsOf(contract, config.tableName, records);
    if (skipped > 0) metrics.count(METRIC.InvalidationFailure, skipped);
    if (paths.length === 0) return { batchItemFailures: [] };
    try {
      for (let i = 0; i < paths.length; i += MAX_PATHS_PER_INVALIDATION) {
        const chunk = paths.slice(i, i + MAX_PATHS_PER_INVALIDATION);
        await send(config.distributionId, `${callerReference(records)}-${i / MAX_PATHS_PER_INVALIDATION}`, chunk);
        metrics.count(METRIC.EdgeInvalidation, chunk.length);
      }
    } catch (err) {
      metrics.count(METRIC.InvalidationFailure);
      const seq = records[0]?.dynamodb?.SequenceNumber;
      log("warn", "CloudFront did not take the invalidation; the batch is reported for Lambda to retry", { paths: paths.length, ...errorFields(err) });
      if (typeof seq !== "string" || seq === "") throw err;
      return { batchItemFailures: [{ itemIdentifier: seq }] };
    }
    log("debug", "edge paths invalidated", { paths });
    return { batchItemFailures: [] };
  } finally {
    metrics.flush();
  }
}

/**
 * The two entry points of an edge invalidator module, built from its contract: `createHandler(deps)`
 * for tests and the twin, `handler` for Lambda (configuration read once per container).
 */
export function defineEdgeInvalidatorHandler(contract: EdgeInvalidatorContract): {
  createHandler: (deps?: EdgeInvalidatorDeps) => BoundEdgeInvalidator;
  handler: (event: unknown) => Promise<StreamBatchResponse>;
} {
  const createHandler = (deps: EdgeInvalidatorDeps = {}): BoundEdgeInvalidator => {
    const config = loadEdgeInvalidatorConfig(deps.env ?? process.env);
    const send = deps.createInvalidation ?? sdkInvalidation(config);
    return Object.assign((event: unknown) => invalidateBatch(contract, config, send, event), { config });
  };
  const handler = perContainer(() => createHandler());
  return { createHandler, handler };
}
