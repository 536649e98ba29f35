/**
 * Internal: what is watched of a stream invalidator (`StreamInvalidator`): its alarms (how far
 * behind the stream it is, what it gave up on, how often it fails) and its dashboard section
 * (invalidation lag from the runtime's own metric next to Lambda's iterator age).
 */
import { DIMENSION, METRIC, MetricName, STREAM_ROUTE } from "../../functions/lib/contract";
import type { AlarmDefinition } from "./alarms";
import { filledSum, GridLayout, metricLine, MetricSpec } from "./metric";
import type { AlarmKey, ResolvedAlarmSettings } from "./settings";

/** The invalidator as the alarms and widgets name it. */
export interface InvalidationWatch {
  /** The invalidator function's name. */
  readonly functionName: string;
  /** The on-failure queue's name. */
  readonly queueName: string;
}

/** What the runtime metrics are filed under. */
interface RuntimeDims {
  readonly namespace: string;
  readonly serviceName: string;
}

const streamMetric = (rt: RuntimeDims, metricName: MetricName, stat: string, label?: string): MetricSpec => ({
  namespace: rt.namespace,
  metricName,
  dimensions: { [DIMENSION.Service]: rt.serviceName, [DIMENSION.Route]: STREAM_ROUTE },
  stat,
  label,
});
const lambda = (w: InvalidationWatch, metricName: string, stat: string, label?: string): MetricSpec =>
  ({ namespace: "AWS/Lambda", metricName, dimensions: { FunctionName: w.functionName }, stat, label });
const queueDepth = (w: InvalidationWatch): MetricSpec =>
  ({ namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: w.queueName }, stat: "Maximum", label: "Messages" });

/** The invalidator's alarms, before their settings are applied. */
export function invalidationAlarms(w: InvalidationWatch, rt: RuntimeDims, st: Readonly<Record<AlarmKey, ResolvedAlarmSettings>>): AlarmDefinition[] {
  return [
    {
      key: "invalidationIteratorAge",
      setting: "invalidationIteratorAge",
      summary: `The stream invalidator of ${rt.serviceName} is more than ${st.invalidationIteratorAge.threshold} ms behind the table's changes: ` +
        "cached entries stay stale that long after a write (a slow or failing invalidator, or too few concurrent batches).",
      comparison: "GreaterThanThreshold",
      metric: lambda(w, "IteratorAge", "Maximum"),
    },
    {
      key: "invalidationFailuresQueued",
      setting: "invalidationFailuresQueued",
      summary: `The stream invalidator of ${rt.serviceName} gave up on batches (their metadata is in its on-failure queue): ` +
        "the entries of those changes may be served stale until their TTL.",
      comparison: "GreaterThanThreshold",
      metric: queueDepth(w),
    },
    {
      key: "invalidatorErrors",
      setting: "invalidatorErrors",
      summary: `The stream invalidator of ${rt.serviceName} keeps failing (invocation errors plus records it reported): ` +
        "the cache is unreachable from it, or records it cannot map; Lambda retries, then queues them.",
      comparison: "GreaterThanThreshold",
      queries: [
        { id: "errors", metric: lambda(w, "Errors", "Sum") },
        { id: "reported", metric: streamMetric(rt, METRIC.InvalidationFailure, "Sum") },
        { id: "failures", expression: filledSum(["errors", "reported"]), label: "Invalidator errors and reported records" },
      ],
    },
  ];
}

/** Adds the invalidation section to a dashboard. */
export function invalidationWidgets(
  grid: GridLayout,
  graph: (title: string, metrics: unknown[], extra?: Record<string, unknown>) => void,
  w: InvalidationWatch,
  rt: RuntimeDims,
  iteratorAgeAlarmMs: number,
): void {
  grid.heading(`## Stream invalidation (\`${w.functionName}\`): change → cache entry gone`);
  graph("Invalidation lag p50 / p99 / max (ms, whole-second change times)", [
    metricLine(streamMetric(rt, METRIC.InvalidationLag, "p50", "p50")),
    metricLine(streamMetric(rt, METRIC.InvalidationLag, "p99", "p99")),
    metricLine(streamMetric(rt, METRIC.InvalidationLag, "Maximum", "max")),
  ]);
  graph("Stream iterator age (ms)", [metricLine(lambda(w, "IteratorAge", "Maximum", "IteratorAge max"))],
    { annotations: { horizontal: [{ label: "alarm", value: iteratorAgeAlarmMs }] } });
  graph("Invalidations, reported records, invocation errors", [
    metricLine(streamMetric(rt, METRIC.Invalidation, "Sum", "Keys invalidated")),
    metricLine(streamMetric(rt, METRIC.InvalidationFailure, "Sum", "Records reported")),
    metricLine(lambda(w, "Errors", "Sum", "Invocation errors")),
  ]);
  graph("On-failure queue (batches given up on)", [metricLine(queueDepth(w))]);
}
