/**
 * CacheObservability with a WebSocket API (the session store): the push-failure ratio alarm
 * (prod only, traffic-gated, reading Push and PushFailure of the routes that push) and the
 * real-time section of the dashboard (connections, messages, pushes, prunes, failures,
 * degradation, the pusher function).
 */
import { Construct } from "constructs";
import { METRIC, socketRouteDimension } from "../../functions/lib/contract";
import {
  Authorization, CacheApi, CacheAsideFunction, CacheObservability, CacheObservabilityProps, CacheTable, DEFAULT_ALARM_SETTINGS, Network, PropsValidationError,
  RedisCache, SESSIONS, SESSIONS_TABLE, WebSocketApi,
} from "../../modules";
import { decodeJsonencode, onlyResource, resourcesOf, synthJson, SynthJson } from "../helpers/synth";

function build(scope: Construct, props: Partial<CacheObservabilityProps> = {}): { ws: WebSocketApi } {
  const network = new Network(scope, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
  const table = new CacheTable(scope, "sessions", SESSIONS_TABLE);
  const cache = new RedisCache(scope, "cache", { network });
  const fn = new CacheAsideFunction(scope, "fn", { network, contract: SESSIONS, settings: { serviceName: "session-store" } });
  fn.useTable(table, { write: true }).useCache(cache);
  const api = new CacheApi(scope, "api", { functions: [fn], authorization: Authorization.iam() });
  const ws = new WebSocketApi(scope, "realtime", { function: fn, authorization: Authorization.iam() });
  new CacheObservability(scope, "observability", { api, function: fn, table, cache, realtime: ws, ...props });
  return { ws };
}

const alarmNamed = (json: SynthJson, suffix: string) => resourcesOf(json, "aws_cloudwatch_metric_alarm").map(([, a]) => a).find((a) => a.alarm_name.endsWith(suffix));

describe("push failure ratio alarm", () => {
  const json = synthJson((s) => build(s), "prod");
  const a = alarmNamed(json, "-push-failure-ratio");

  test("exists in prod with the defaults, watching Push and PushFailure of the REST append and the socket's sendTurn", () => {
    const d = DEFAULT_ALARM_SETTINGS.pushFailureRatio;
    expect(a).toMatchObject({ comparison_operator: "GreaterThanThreshold", threshold: d.threshold, evaluation_periods: d.evaluationPeriods, treat_missing_data: "notBreaching" });
    const metrics = a.metric_query.filter((q: any) => q.metric).map((q: any) => [q.metric.metric_name, q.metric.dimensions.Route]);
    const routes = ["POST /sessions/{sessionId}/turns", socketRouteDimension("sendTurn")];
    expect(metrics).toEqual([...routes.map((r) => [METRIC.Push, r]), ...routes.map((r) => [METRIC.PushFailure, r])]);
    expect(a.metric_query.at(-1).expression).toBe(`IF(attempts >= ${d.minRequests}, 100 * failures / attempts, 0)`);
    expect(a.alarm_description).toMatch(/Action: Read the pusher's log .* Runbook: https:\/\/\S+#pushfailureratio$/);
  });

  test("its threshold and traffic gate come from props; none in dev; a bad threshold is refused", () => {
    const custom = alarmNamed(synthJson((s) => build(s, { alarms: { pushFailureRatio: { threshold: 20, minRequests: 5 } } }), "prod"), "-push-failure-ratio");
    expect(custom.threshold).toBe(20);
    expect(custom.metric_query.at(-1).expression).toMatch(/^IF\(attempts >= 5,/);
    expect(alarmNamed(synthJson((s) => build(s), "dev"), "-push-failure-ratio")).toBeUndefined();
    expect(() => synthJson((s) => build(s, { alarms: { pushFailureRatio: { threshold: 100 } } }))).toThrow(PropsValidationError);
  });
});

describe("real-time dashboard section", () => {
  const json = synthJson((s) => build(s), "prod");
  const body = decodeJsonencode(onlyResource(json, "aws_cloudwatch_dashboard").dashboard_body);
  const text = JSON.stringify(body);

  test("connects, messages and errors of the WebSocket API; sockets, pushes, prunes, failures and degradation; the pusher", () => {
    expect(body.widgets.some((w: any) => /^## Real-time \(WebSocket API/.test(w.properties.markdown ?? ""))).toBe(true);
    for (const m of ["ConnectCount", "MessageCount", "IntegrationError", ...[METRIC.SocketConnect, METRIC.SocketDisconnect, METRIC.Push, METRIC.PushPruned, METRIC.PushFailure, METRIC.PushDegraded]]) {
      expect(text).toContain(m);
    }
    const titles = body.widgets.map((w: any) => w.properties.title).filter(Boolean);
    expect(titles).toEqual(expect.arrayContaining(["Pushes: delivered, pruned, failed, degraded", "Push failure ratio (%)", "Pusher function"]));
    expect(text).toMatch(/"ApiId","\$\{aws_apigatewayv2_api\.\w+\.id\}","Stage","v1"/);
  });

  test("a WebSocket API on another function is refused: its metrics are filed under another service", () => {
    expect(() => synthJson((s) => {
      const { ws } = build(new Construct(s, "a"));
      const network = new Network(s, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
      const table = new CacheTable(s, "t", SESSIONS_TABLE);
      const fn = new CacheAsideFunction(s, "fn2", { network, contract: SESSIONS });
      fn.useTable(table, { write: true });
      const api = new CacheApi(s, "api", { functions: [fn], authorization: Authorization.iam() });
      new CacheObservability(s, "observability", { api, function: fn, table, realtime: ws });
    })).toThrow(/realtime = "test\/a\/realtime": a WebSocket API on test\/fn2/);
  });
});
