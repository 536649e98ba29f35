/**
 * Internal: the rest of the stack. A service is more than its cache-aside function and table: the
 * authorizer, a WebSocket function, a second table. Every Lambda function and DynamoDB table of the
 * stack that the service's own alarms do not cover gets the same alarms (errors and throttles; read
 * and write throttles) and a graph, so one topic and one dashboard cover the whole stack.
 */
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { TerraformStack } from "cdktf";
import { IConstruct } from "constructs";
import { AlarmDefinition, lambdaAlarms, tableThrottleAlarm } from "./alarms";
import { GridLayout, metricLine, MetricSpec } from "./metric";
import type { AlarmKey, ResolvedAlarmSettings } from "./settings";

/** A function or table of the stack, as its alarms and graphs name it. */
export interface CoveredResource {
  /** Readable label from the construct path below the stack, e.g. `api/authorizer/function`. */
  readonly label: string;
  /** The function's or table's name (usually a token). */
  readonly name: string;
}

/**
 * What of `scope`'s stack is left once `covered` is taken out: constructs already watched, each a
 * function's or table's Terraform resource or a construct holding it.
 */
export function uncovered(scope: IConstruct, covered: readonly IConstruct[]): { functions: CoveredResource[]; tables: CoveredResource[] } {
  const stack = TerraformStack.of(scope);
  // A resource wrapped by a construct (a CacheAsideFunction's `function`) is named after the construct.
  const label = (c: IConstruct) => (c.node.scope === stack ? c : c.node.scope!).node.path.split("/").slice(1).join("/");
  const all = stack.node.findAll();
  const isCovered = (c: IConstruct) => covered.some((k) => c === k || c.node.scopes.includes(k));
  const functions = all
    .filter((c): c is LambdaFunction => c instanceof LambdaFunction && !isCovered(c))
    .map((f) => ({ label: label(f), name: f.functionName }));
  const tables = all
    .filter((c): c is DynamodbTable => c instanceof DynamodbTable && !isCovered(c))
    .map((t) => ({ label: label(t), name: t.name }));
  return { functions, tables };
}

/** Alarm keys of covered resources: `<label>-<setting>`, readable in the console and unique in the stack. */
const keyOf = (r: CoveredResource, setting: string) => `${r.label.replace(/[^A-Za-z0-9]+/g, "-")}-${setting}`;

/** Errors and throttles of each function, throttles of each table: the service's own settings apply. */
export function coverageAlarms(
  rest: { functions: readonly CoveredResource[]; tables: readonly CoveredResource[] },
  st: Readonly<Record<AlarmKey, ResolvedAlarmSettings>>,
): AlarmDefinition[] {
  return [
    ...rest.functions.flatMap((f) => lambdaAlarms(f.name, `Lambda ${f.label}`, keyOf(f, ""), st)),
    ...rest.tables.map((t) => tableThrottleAlarm(t.name, t.label, keyOf(t, "dynamoDbThrottles"))),
  ];
}

/** A section of one row per function (invocations, errors, throttles; duration) and table (throttles). */
export function coverageWidgets(
  grid: GridLayout,
  graph: (title: string, metrics: unknown[], extra?: Record<string, unknown>) => void,
  rest: { functions: readonly CoveredResource[]; tables: readonly CoveredResource[] },
): void {
  if (rest.functions.length === 0 && rest.tables.length === 0) return;
  grid.heading("## The rest of the stack");
  for (const f of rest.functions) {
    const fn = (metricName: string, stat: string, label?: string): MetricSpec => ({ namespace: "AWS/Lambda", metricName, dimensions: { FunctionName: f.name }, stat, label });
    graph(`${f.label}: invocations, errors, throttles`, [metricLine(fn("Invocations", "Sum")), metricLine(fn("Errors", "Sum")), metricLine(fn("Throttles", "Sum"))]);
    graph(`${f.label}: duration p50 / p99 (ms)`, [metricLine(fn("Duration", "p50", "p50")), metricLine(fn("Duration", "p99", "p99"))]);
  }
  for (const t of rest.tables) {
    const table = (metricName: string): MetricSpec => ({ namespace: "AWS/DynamoDB", metricName, dimensions: { TableName: t.name }, stat: "Sum" });
    graph(`${t.label}: throttled reads and writes`, [metricLine(table("ReadThrottleEvents")), metricLine(table("WriteThrottleEvents"))]);
  }
}
