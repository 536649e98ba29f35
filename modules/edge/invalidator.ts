/**
 * Writes drop their edge copies: a Lambda on the table's stream (a second consumer, beside the
 * `StreamInvalidator` that clears the cache) sends each batch's changed paths to CloudFront in one
 * CreateInvalidation. It runs outside the VPC (CloudFront's API has no VPC endpoint; it reads no
 * private resource) with a role that may invalidate this distribution only:
 *
 *   new EdgeInvalidator(this, "edge-invalidator", { edge, function: fn, table });
 *
 * Cost: CloudFront bills each path after the account's first 1,000 a month, $0.005 a path
 * ($5 per 1,000 paths; tools/cost/prices.ts has the source); a path written many times in one
 * batch is sent once.
 */
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import type { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { Construct } from "constructs";
import { CONNECTIONS, EdgeInvalidatorContract, environmentOf, RUNTIME_SETTINGS } from "../../functions/lib/contract";
import { EDGE_INVALIDATORS } from "../../functions/invalidator/contract";
import { Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import type { Bundle } from "../function/bundle";
import { outsideVpcFunction } from "../function/standalone";
import type { CacheAsideFunction } from "../function";
import type { Role } from "../iam";
import type { LogGroup } from "../logs";
import { suppressRule } from "../policy";
import type { IStreamTable } from "../table";
import type { IEdge } from "./interface";

export { EDGE_INVALIDATORS, PRODUCTS_EDGE_INVALIDATOR } from "../../functions/invalidator/contract";
export { defineEdgeInvalidator, edgePathsOf } from "../../functions/lib/contract";
export type { EdgeInvalidatorContract } from "../../functions/lib/contract";

/** Props of {@link EdgeInvalidator}. */
export interface EdgeInvalidatorProps {
  /** The distribution whose copies go stale (a `CacheEdge`). */
  readonly edge: IEdge;
  /** The function behind the edge: its contract maps a changed item to paths; its service names the metrics. */
  readonly function: CacheAsideFunction;
  /** The table whose stream is read (its stream is turned on). */
  readonly table: IStreamTable;
  /**
   * The edge invalidator's contract (`defineEdgeInvalidator(contract, { entry })`); its `fronts` must be the function's contract.
   * @default the shipped one of the function's contract (`PRODUCTS_EDGE_INVALIDATOR`)
   */
  readonly invalidator?: EdgeInvalidatorContract;
  /**
   * Records per invocation (1–10000): all their paths go out in one invalidation.
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * Seconds Lambda may wait to fill a batch (0–300): longer batches send fewer, larger
   * invalidations (a path written twice in one batch is billed once), and each second is a second
   * more an edge copy may outlive its write.
   * @default 1
   */
  readonly maximumBatchingWindowSeconds?: number;
  /**
   * Retries of a batch CloudFront refused (0–10000).
   * @default 10
   */
  readonly maximumRetryAttempts?: number;
  /**
   * Age (60–604800 s) past which records are dropped.
   * @default the longest an edge copy lives (the function's s-maxage plus stale-while-revalidate), at least 60:
   * an older change has no copy left to invalidate
   */
  readonly maximumRecordAgeSeconds?: number;
  /**
   * Days to keep the function's logs.
   * @default 90 in prod, 14 in dev
   */
  readonly logRetentionDays?: number;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

/** A Lambda on a table's stream that invalidates the changed items' paths at a CloudFront distribution. */
export class EdgeInvalidator extends Construct {
  /** The Terraform `aws_lambda_function` resource (no VPC). */
  public readonly resource: LambdaFunction;
  /** Its role: logs, traces, reading the stream, CreateInvalidation on the distribution. */
  public readonly role: Role;
  /** The function's log group. */
  public readonly logGroup: LogGroup;
  /** The bundle deployed. */
  public readonly bundle: Bundle;
  /** The Terraform `aws_lambda_event_source_mapping` reading the stream. */
  public readonly mapping: LambdaEventSourceMapping;
  /** @attribute The function's name. */
  public readonly functionName: string;
  /** Record age limit in seconds, after defaults. */
  public readonly maximumRecordAgeSeconds: number;

  constructor(scope: Construct, id: string, props: EdgeInvalidatorProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const fn = props.function;
    const contract = props.invalidator ?? EDGE_INVALIDATORS.find((c) => c.fronts === fn.contract);
    const setting = (k: keyof typeof RUNTIME_SETTINGS) => Number(fn.settings[k] ?? RUNTIME_SETTINGS[k].default);
    const edgeLife = setting("cacheControlSharedMaxAgeSeconds") + setting("cacheControlStaleWhileRevalidateSeconds");
    this.maximumRecordAgeSeconds = props.maximumRecordAgeSeconds ?? Math.min(604_800, Math.max(60, edgeLife));
    const v = PropsValidator.for(this);
    v.check(contract !== undefined, "invalidator", undefined,
      `an edge invalidator contract for ${fn.node.path}'s contract ${fn.contract.name}: defineEdgeInvalidator(<its contract>, { entry }) ` +
        `(shipped: ${EDGE_INVALIDATORS.map((c) => c.fronts.name).join(", ")})`);
    if (contract) {
      v.check(contract.fronts === fn.contract, "invalidator.fronts", contract.fronts.name, `the contract of ${fn.node.path} (${fn.contract.name})`);
    }
    v.check(props.edge.api.routes.some((r) => r.function === fn), "function", fn.node.path, `a function behind the edge's API (${props.edge.api.node.path})`);
    v.intRange("batchSize", props.batchSize, 1, 10_000)
      .intRange("maximumBatchingWindowSeconds", props.maximumBatchingWindowSeconds, 0, 300)
      .intRange("maximumRetryAttempts", props.maximumRetryAttempts, 0, 10_000)
      .intRange("maximumRecordAgeSeconds", this.maximumRecordAgeSeconds, 60, 604_800);
    v.throwIfAny();

    const shared = { serviceName: fn.settings.serviceName as string, metricsNamespace: fn.settings.metricsNamespace as string, logLevel: fn.settings.logLevel as string };
    const made = outsideVpcFunction(this, {
      entry: contract!.entry,
      description: contract!.description,
      // A batch is one HTTPS call to CloudFront (the SDK retries it up to 5 times).
      memorySize: 256,
      timeoutSeconds: 60,
      environment: {
        ...environmentOf(RUNTIME_SETTINGS, shared),
        ...environmentOf(CONNECTIONS, { tableName: props.table.tableName, edgeDistributionId: props.edge.distributionId }),
      },
      logRetentionDays: props.logRetentionDays,
      profile,
    });
    ({ bundle: this.bundle, logGroup: this.logGroup, role: this.role, resource: this.resource } = made);
    this.role.addToPrincipalPolicy("invalidate-edge", [{ actions: ["cloudfront:CreateInvalidation"], resources: [props.edge.distributionArn] }]);
    const streamArn = props.table.enableStream();
    props.table.grantStreamRead(this.role);
    this.functionName = this.resource.functionName;

    const role = this.role;
    this.mapping = new LambdaEventSourceMapping(this, "mapping", {
      eventSourceArn: streamArn,
      functionName: this.resource.arn,
      startingPosition: "LATEST",
      batchSize: props.batchSize ?? 100,
      maximumBatchingWindowInSeconds: props.maximumBatchingWindowSeconds ?? 1,
      maximumRetryAttempts: props.maximumRetryAttempts ?? 10,
      maximumRecordAgeInSeconds: this.maximumRecordAgeSeconds,
      functionResponseTypes: ["ReportBatchItemFailures"],
      // Lambda checks at creation that the role can read the stream.
      dependsOn: role.policyNames.map((n) => role.policyResource(n)!),
    });
    suppressRule(this.mapping, "CF-ESM-1",
      "a batch given up on leaves an edge copy until its s-maxage + stale-while-revalidate, which the record age limit equals: " +
        "there is nothing to redo later; the InvalidationFailure metric and Lambda's Errors count the failures");
  }
}
