/**
 * Target-tracking autoscaling of a provisioned table and of each of its global secondary indexes:
 * a scalable target and a policy per dimension (reads, writes). DynamoDB scales an index apart
 * from its table, so an index without its own target keeps its initial capacity forever.
 */
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import type { DynamodbTableGlobalSecondaryIndex } from "@cdktf/provider-aws/lib/dynamodb-table";
import { Construct } from "constructs";

/** Floor and ceiling of one dimension, in capacity units. */
export interface ScalingRange {
  /** Floor, also the capacity Terraform creates the table or index with. */
  readonly min: number;
  /** Ceiling autoscaling may raise the capacity to. */
  readonly max: number;
}

/** The capacity a table or index runs with, after defaults. */
export interface Scaling {
  /** Read capacity range. */
  readonly read: ScalingRange;
  /** Write capacity range. */
  readonly write: ScalingRange;
  /** Target utilization percent of both policies. */
  readonly targetUtilizationPercent: number;
}

/** What to scale: the table itself, or one of its indexes. */
export interface ScaledResource {
  /** Prefix of the construct ids (`` for the table, so its ids never change). */
  readonly idPrefix: string;
  /** `table/<name>` or `table/<name>/index/<index>`. */
  readonly resourceId: string;
  /** `table` or `index`: the scalable dimension's namespace. */
  readonly kind: "table" | "index";
  /** Base of the policy names (`<base>-read-utilization`). */
  readonly policyName: string;
  /** Ranges and target. */
  readonly scaling: Scaling;
}

/** Adds the read and write scalable targets and target-tracking policies of `r` to `scope`. */
export function autoscale(scope: Construct, r: ScaledResource): void {
  for (const dim of ["Read", "Write"] as const) {
    const range = dim === "Read" ? r.scaling.read : r.scaling.write;
    const lower = dim.toLowerCase();
    const target = new AppautoscalingTarget(scope, `${r.idPrefix}${lower}-scaling-target`, {
      serviceNamespace: "dynamodb",
      resourceId: r.resourceId,
      scalableDimension: `dynamodb:${r.kind}:${dim}CapacityUnits`,
      minCapacity: range.min,
      maxCapacity: range.max,
    });
    new AppautoscalingPolicy(scope, `${r.idPrefix}${lower}-scaling-policy`, {
      name: `${r.policyName}-${lower}-utilization`.slice(0, 255),
      policyType: "TargetTrackingScaling",
      serviceNamespace: target.serviceNamespace,
      resourceId: target.resourceId,
      scalableDimension: target.scalableDimension,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: r.scaling.targetUtilizationPercent,
        predefinedMetricSpecification: { predefinedMetricType: `DynamoDB${dim}CapacityUtilization` },
      },
    });
  }
}

/**
 * A Terraform postcondition that the table's indexes (name, keys, projection) are the configured
 * ones. With `global_secondary_index` in `ignore_changes`, Terraform would otherwise plan a changed
 * index layout as "no change" and the handler would query an index that does not exist.
 */
export function indexLayoutCondition(indexes: readonly DynamodbTableGlobalSecondaryIndex[]): string {
  const want = indexes.map((g) => [g.name, g.hashKey, g.rangeKey ?? "", g.projectionType, [...(g.nonKeyAttributes ?? [])].sort().join(",")].join("|"));
  const have =
    'join("|", [g.name, g.hash_key, g.range_key == null ? "" : g.range_key, g.projection_type, join(",", try(sort(g.non_key_attributes), []))])';
  return `\${toset([for g in self.global_secondary_index : ${have}]) == toset([${want.map(hclString).join(", ")}])}`;
}

/** A Terraform string literal: quotes, backslashes and template sequences escaped. */
function hclString(s: string): string {
  return JSON.stringify(s).replace(/([$%])\{/g, "$1$1{");
}
