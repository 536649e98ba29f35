/**
 * Internal: what is watched of a WebSocket API (`WebSocketApi`): the push-failure alarm and the
 * real-time section of the dashboard (connections, messages, pushes, prunes, failures, degradation,
 * the pusher function).
 */
import { DIMENSION, METRIC, METRIC_DIMENSIONS, MetricName, routeKey, socketRouteDimension } from "../../functions/lib/contract";
import type { ApiRoute } from "../api";
import type { CacheAsideFunction } from "../function";
import type { WebSocketApi } from "../websocket";
import type { AlarmDefinition } from "./alarms";
import { expressionLine, filledSum, GridLayout, metricLine, MetricSpec, searchExpression } from "./metric";
import type { AlarmKey, ResolvedAlarmSettings } from "./settings";

/** The WebSocket API as the alarm and widgets name it. */
export interface RealtimeWatch {
  /** The API's id (the `ApiId` dimension of API Gateway's WebSocket metrics). */
  readonly apiId: string;
  /** The API's name (headings). */
  readonly apiName: string;
  readonly stageName: string;
  /** The pusher function's name. */
  readonly pusherFunctionName: string;
  /** `Route` values that push (at most 5: an alarm reads at most 10 metrics, two per route). */
  readonly pushRoutes: readonly string[];
}

/** What the runtime metrics are filed under. */
interface RuntimeDims {
  readonly namespace: string;
  readonly serviceName: string;
}

/** The routes that push: writes of the function on the REST API, and socket routes that take a message. */
export function realtimeWatch(ws: WebSocketApi, fn: CacheAsideFunction, restRoutes: readonly ApiRoute[]): RealtimeWatch {
  const pushRoutes = [
    ...restRoutes.filter((r) => r.function === fn && r.method !== "GET").map(routeKey),
    ...ws.socket.routes.filter((r) => r.body).map((r) => socketRouteDimension(r.routeKey)),
  ].slice(0, 5);
  return { apiId: ws.apiId, apiName: ws.apiName, stageName: ws.stageName, pusherFunctionName: ws.pusher.functionName, pushRoutes };
}

const runtime = (rt: RuntimeDims, metricName: MetricName, route: string): MetricSpec =>
  ({ namespace: rt.namespace, metricName, dimensions: { [DIMENSION.Service]: rt.serviceName, [DIMENSION.Route]: route }, stat: "Sum" });

/** The push-failure alarm, before its settings are applied. */
export function realtimeAlarms(w: RealtimeWatch, rt: RuntimeDims, st: Readonly<Record<AlarmKey, ResolvedAlarmSettings>>): AlarmDefinition[] {
  const s = st.pushFailureRatio;
  const pushed = w.pushRoutes.map((r, i) => ({ id: `p${i}`, metric: runtime(rt, METRIC.Push, r) }));
  const failed = w.pushRoutes.map((r, i) => ({ id: `f${i}`, metric: runtime(rt, METRIC.PushFailure, r) }));
  return [{
    key: "pushFailureRatio",
    setting: "pushFailureRatio",
    summary: `More than ${s.threshold} % of the WebSocket pushes of ${rt.serviceName} failed, with at least ${s.minRequests} pushes per ` +
      "period: connected clients miss turns until they read the session again (throttled or slow posts, or the pusher failing).",
    comparison: "GreaterThanThreshold",
    queries: [
      ...pushed,
      ...failed,
      { id: "delivered", expression: filledSum(pushed.map((q) => q.id)), label: "Delivered" },
      { id: "failures", expression: filledSum(failed.map((q) => q.id)), label: "Failed" },
      { id: "attempts", expression: "delivered + failures", label: "Pushes attempted" },
      { id: "ratio", expression: `IF(attempts >= ${s.minRequests}, 100 * failures / attempts, 0)`, label: "Push failure % (0 when traffic is too low to judge)" },
    ],
  }];
}

/** Adds the real-time section to a dashboard. */
export function realtimeWidgets(
  grid: GridLayout,
  graph: (title: string, metrics: unknown[], extra?: Record<string, unknown>) => void,
  w: RealtimeWatch,
  rt: RuntimeDims,
  periodSeconds: number,
  failureAlarmPercent: number,
): void {
  const api = (metricName: string, label: string): MetricSpec =>
    ({ namespace: "AWS/ApiGateway", metricName, dimensions: { ApiId: w.apiId, Stage: w.stageName }, stat: "Sum", label });
  const pusher = (metricName: string, stat: string, label: string): MetricSpec =>
    ({ namespace: "AWS/Lambda", metricName, dimensions: { FunctionName: w.pusherFunctionName }, stat, label });
  const total = (metricName: MetricName) => `SUM(${searchExpression(rt.namespace, METRIC_DIMENSIONS, metricName, { [DIMENSION.Service]: rt.serviceName }, "Sum", periodSeconds)})`;
  grid.heading(`## Real-time (WebSocket API \`${w.apiName}\`, stage ${w.stageName}): connections and pushes`);
  graph("Connects and messages (API Gateway)", [metricLine(api("ConnectCount", "Connects")), metricLine(api("MessageCount", "Messages"))]);
  graph("WebSocket errors (API Gateway)", [
    metricLine(api("ClientError", "Client errors")),
    metricLine(api("IntegrationError", "Integration errors")),
    metricLine(api("ExecutionError", "Execution errors")),
  ]);
  graph("Sockets opened and closed", [
    expressionLine(total(METRIC.SocketConnect), "Opened ($connect)", "opened"),
    expressionLine(total(METRIC.SocketDisconnect), "Closed ($disconnect)", "closed"),
  ]);
  graph("Pushes: delivered, pruned, failed, degraded", [
    expressionLine(total(METRIC.Push), "Delivered", "delivered"),
    expressionLine(total(METRIC.PushPruned), "Pruned (client gone)", "pruned"),
    expressionLine(total(METRIC.PushFailure), "Failed", "failed"),
    expressionLine(total(METRIC.PushDegraded), "Degraded (cache unreachable: not pushed)", "degraded"),
  ]);
  graph("Push failure ratio (%)", [
    expressionLine(total(METRIC.Push), "Delivered", "d", false),
    expressionLine(total(METRIC.PushFailure), "Failed", "f", false),
    expressionLine("100 * FILL(f, 0) / (FILL(d, 0) + FILL(f, 0))", "Failed %", "ratio"),
  ], { yAxis: { left: { min: 0, max: 100 } }, annotations: { horizontal: [{ label: "alarm", value: failureAlarmPercent }] } });
  graph("Pusher function", [
    metricLine(pusher("Invocations", "Sum", "Invocations")),
    metricLine(pusher("Errors", "Sum", "Errors")),
    metricLine(pusher("Duration", "p99", "Duration p99 (ms)")),
  ]);
}
