/**
 * API Gateway v2 (WebSocket) rules: stages write access logs, throttle their routes and never log
 * message bodies; the right to post to connections names one API's `@connections`.
 */
import { asBool, asNumber } from "../model";
import type { RuleOutcome } from "../types";
import { byProps, fail, notApplicable, pass, PolicyRule, setBy, setByWiring, unknown } from "../rule";
import { accessLogOutcome } from "./api-gateway";
import { eachAllow, POLICY_TYPES } from "./iam";
import { show, unresolved } from "./util";

const V2_STAGE = ["aws_apigatewayv2_stage"];

export const APIGW_V2_ACCESS_LOGS: PolicyRule = {
  id: "CF-APIGW-9",
  title: "WebSocket (API Gateway v2) stages write access logs",
  severity: "error",
  resourceTypes: V2_STAGE,
  rationale:
    "A WebSocket stage's access log is the only record of who connected, when, with which result, and which connection " +
    "sent what route: execution logs are sampled by level and do not name the caller.",
  remediation: "Set access_log_settings { destination_arn = <log group ARN>, format = <JSON format> } on the stage (WebSocketApi does).",
  references: { checkov: ["CKV_AWS_76"], cdkNag: ["AwsSolutions-APIG1"] },
  props: { "*": setBy("WebSocketApi") },
  evaluate(r, { model }) {
    return accessLogOutcome(model, r);
  },
};

export const APIGW_V2_THROTTLING: PolicyRule = {
  id: "CF-APIGW-10",
  title: "WebSocket (API Gateway v2) stages throttle their routes and never log message bodies",
  severity: "error",
  resourceTypes: V2_STAGE,
  rationale:
    "Without default route throttling every route shares the account's limit, so one client's message storm can starve the " +
    "other APIs and push a connect storm through to the function and the cache; data trace logs every message, i.e. customer " +
    "conversations, into CloudWatch.",
  remediation:
    "Set default_route_settings { throttling_rate_limit > 0, throttling_burst_limit > 0, data_trace_enabled = false } (WebSocketApi " +
    "takes throttlingRateLimit and throttlingBurstLimit).",
  references: { cdkNag: ["Serverless-APIGWDefaultThrottling"] },
  props: {
    throttling_rate_limit: byProps("WebSocketApi.throttlingRateLimit"),
    throttling_burst_limit: byProps("WebSocketApi.throttlingBurstLimit"),
    "*": setBy("WebSocketApi"),
  },
  evaluate(stage, { model }) {
    const out: RuleOutcome[] = [];
    for (const k of ["throttling_rate_limit", "throttling_burst_limit"]) {
      const at = `default_route_settings.${k}`;
      const v = model.value(stage, at);
      if (v.state === "unknown") out.push(unresolved(at, v.expression));
      else if (v.state === "absent") out.push(fail(at, `${k} is not set (the account-level limit applies)`));
      else {
        const n = asNumber(v.value);
        if (n === undefined || n <= 0) out.push(fail(at, `${k} = ${show(v.value)}; a positive limit is required`));
      }
    }
    const trace = model.value(stage, "default_route_settings.data_trace_enabled");
    if (trace.state === "unknown") out.push(unresolved("default_route_settings.data_trace_enabled", trace.expression));
    else if (trace.state === "known" && asBool(trace.value) === true) {
      out.push(fail("default_route_settings.data_trace_enabled", "data_trace_enabled = true logs every message body"));
    }
    return out.length > 0 ? out : pass();
  },
};

/** True for `execute-api:ManageConnections` (and `Manage*`); "*" and "execute-api:*" are CF-IAM-1's and CF-IAM-5's. */
const managesConnections = (a: string) => /^execute-api:manage(connections|\*)$/i.test(a.trim());

export const IAM_MANAGE_CONNECTIONS_SCOPED: PolicyRule = {
  id: "CF-IAM-6",
  title: "execute-api:ManageConnections names one API's @connections",
  severity: "error",
  resourceTypes: POLICY_TYPES,
  rationale:
    "ManageConnections posts to, reads and closes WebSocket connections: on \"*\" (or any API's ARN) the holder can write into " +
    "every client of every WebSocket API in the account, or disconnect them.",
  remediation:
    "Grant it on `<api execution ARN>/<stage>/POST/@connections/*` of the one API the function serves (WebSocketApi grants its pusher exactly that).",
  references: { cdkNag: ["AwsSolutions-IAM5"] },
  props: { "*": setByWiring("WebSocketApi grants its pusher ManageConnections on its stage's @connections") },
  evaluate(r, { model }) {
    let seen = false;
    const outcome = eachAllow(model, r, (s, at) => {
      if (!s.actions.some(managesConnections)) return undefined;
      seen = true;
      if (s.notResources) return fail(`${at}.NotResource`, "ManageConnections with NotResource reaches every other API's connections");
      if (s.resources.length === 0) return fail(`${at}.Resource`, "ManageConnections on no resource");
      for (const res of s.resources) {
        const t = res.trim();
        if (t === "*" || /^arn:[^:]*:execute-api:[^:]*:[^:]*:\*/.test(t)) return fail(`${at}.Resource`, `ManageConnections on ${show(t)}: every API's connections`);
        if (!t.includes("/@connections")) {
          return t.includes("${") && !/execution_arn/.test(t)
            ? unknown(`${at}.Resource`, `the resource is the expression ${show(t)}`)
            : fail(`${at}.Resource`, `ManageConnections on ${show(t)}: more than the API's @connections`);
        }
      }
      return undefined;
    });
    if (seen) return outcome;
    // No statement grants it, unless a policy could not be read: then that is not known.
    const read = [outcome].flat();
    return read.some((o) => o.status === "unknown") ? read : notApplicable();
  },
};

export const WEBSOCKET_RULES: readonly PolicyRule[] = [APIGW_V2_ACCESS_LOGS, APIGW_V2_THROTTLING, IAM_MANAGE_CONNECTIONS_SCOPED];
