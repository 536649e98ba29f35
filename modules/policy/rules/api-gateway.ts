/** API Gateway (REST API) rules: logs, tracing, method settings, throttling, validation, authorization. */
import type { Pointer } from "../model";
import { asBool, asNumber, many, TerraformModel, TfResource, valueAt } from "../model";
import type { RuleOutcome } from "../types";
import { byProps, fail, notApplicable, pass, PolicyRule, setBy, unknown } from "../rule";
import { boolAttr, show, unresolved } from "./util";

const STAGE = ["aws_api_gateway_stage"];
const METHOD = ["aws_api_gateway_method"];

function samePointer(a: Pointer, b: Pointer): boolean | "unknown" {
  if (a.kind === "unknown" || b.kind === "unknown") return "unknown";
  if (a.kind === "resource" && b.kind === "resource") return a.resource.address === b.resource.address;
  if (a.kind === "literal" && b.kind === "literal") return a.value === b.value;
  return false;
}

/** Method settings of a stage: same REST API, stage_name naming this stage. */
function settingsOf(model: TerraformModel, stage: TfResource): { settings: TfResource[]; undecided: boolean } {
  const api = model.follow(stage, "rest_api_id");
  const settings: TfResource[] = [];
  let undecided = false;
  for (const s of model.ofType("aws_api_gateway_method_settings")) {
    const sameApi = samePointer(model.follow(s, "rest_api_id"), api);
    const name = model.follow(s, "stage_name");
    const sameStage =
      name.kind === "resource" ? name.resource.address === stage.address
        : name.kind === "literal" ? name.value === stage.values.stage_name
          : "unknown";
    if (sameApi === true && sameStage === true) settings.push(s);
    else if (sameApi !== false && sameStage !== false) undecided = true;
  }
  return { settings, undecided };
}

/** The `*\/*` method settings of a stage, or an outcome explaining why there is none. */
function allMethodsSettings(model: TerraformModel, stage: TfResource): TfResource | RuleOutcome {
  const { settings, undecided } = settingsOf(model, stage);
  const all = settings.find((s) => s.values.method_path === "*/*");
  if (all) return all;
  if (undecided) return unknown("aws_api_gateway_method_settings", "a method settings resource names its API or stage with an expression");
  return fail("aws_api_gateway_method_settings",
    settings.length > 0 ? "method settings exist only for some methods; none covers \"*/*\""
      : "no aws_api_gateway_method_settings covers this stage (\"*/*\")");
}

export const APIGW_ACCESS_LOGS: PolicyRule = {
  id: "CF-APIGW-1",
  title: "Stages write access logs",
  severity: "error",
  resourceTypes: STAGE,
  rationale: "Access logs are the record of who called the API, when, and with what result; execution logs do not replace them.",
  remediation: "Set access_log_settings { destination_arn = <log group ARN>, format = <JSON format> }.",
  references: { checkov: ["CKV_AWS_76"], cdkNag: ["AwsSolutions-APIG1", "Serverless-APIGWAccessLogging"] },
  props: { "*": setBy("CacheApi") },
  evaluate(r, { model }) {
    return accessLogOutcome(model, r);
  },
};

/** A stage's `access_log_settings` (REST and v2 stages alike): a destination and a format. */
export function accessLogOutcome(model: TerraformModel, r: TfResource): RuleOutcome {
  const dest = model.value(r, "access_log_settings.destination_arn");
  if (dest.state === "absent") return fail("access_log_settings.destination_arn", "access_log_settings is not set: no access logs");
  if (dest.state === "known" && String(dest.value).trim() === "") return fail("access_log_settings.destination_arn", "the destination is empty");
  const format = model.value(r, "access_log_settings.format");
  if (format.state === "absent" || (format.state === "known" && String(format.value).trim() === "")) {
    return fail("access_log_settings.format", "access_log_settings has no format");
  }
  return pass();
}

export const APIGW_XRAY: PolicyRule = {
  id: "CF-APIGW-2",
  title: "Stages trace with X-Ray",
  severity: "warning",
  resourceTypes: STAGE,
  rationale: "Without X-Ray on the stage, traces start at the function and the time spent in API Gateway is invisible.",
  remediation: "Set xray_tracing_enabled = true.",
  references: { checkov: ["CKV_AWS_73"], securityHub: ["APIGateway.3"], cdkNag: ["Serverless-APIGWXrayEnabled"] },
  props: { "*": setBy("CacheApi") },
  evaluate(r, { model }) {
    return boolAttr(model, r, "xray_tracing_enabled", true, "non-compliant", "xray_tracing_enabled is not set (off)");
  },
};

export const APIGW_METHOD_SETTINGS: PolicyRule = {
  id: "CF-APIGW-3",
  title: "Stages log and measure every method, without data trace",
  severity: "warning",
  prodSeverity: "error",
  resourceTypes: STAGE,
  rationale:
    "Per-method metrics and execution logs (ERROR or INFO) are how 4xx/5xx and latency are seen; data trace logs full " +
    "request and response bodies, i.e. customer data, into CloudWatch.",
  remediation:
    "Add aws_api_gateway_method_settings with method_path \"*/*\", metrics_enabled = true, logging_level = \"ERROR\" or \"INFO\", data_trace_enabled = false.",
  references: { checkov: ["CKV2_AWS_4", "CKV_AWS_276"], securityHub: ["APIGateway.1"], cdkNag: ["AwsSolutions-APIG6"] },
  props: { logging_level: byProps("CacheApi.loggingLevel"), "*": setBy("CacheApi") },
  evaluate(stage, { model }) {
    const found = allMethodsSettings(model, stage);
    if (!("values" in found)) return found;
    const s = found;
    const out: RuleOutcome[] = [];
    const at = (k: string) => `${s.address}.settings.${k}`;
    const metrics = model.value(s, "settings.metrics_enabled");
    if (metrics.state === "unknown") out.push(unresolved(at("metrics_enabled"), metrics.expression));
    else if (metrics.state === "absent" || asBool(metrics.value) !== true) {
      out.push(fail(at("metrics_enabled"), metrics.state === "absent" ? "metrics_enabled is not set (off)" : `metrics_enabled = ${show(metrics.value)}`));
    }
    const level = model.value(s, "settings.logging_level");
    if (level.state === "unknown") out.push(unresolved(at("logging_level"), level.expression));
    else if (level.state === "absent") out.push(fail(at("logging_level"), "logging_level is not set (OFF)"));
    else if (!["ERROR", "INFO"].includes(String(level.value))) out.push(fail(at("logging_level"), `logging_level = ${show(level.value)}; expected "ERROR" or "INFO"`));
    const trace = model.value(s, "settings.data_trace_enabled");
    if (trace.state === "unknown") out.push(unresolved(at("data_trace_enabled"), trace.expression));
    else if (trace.state === "known" && asBool(trace.value) === true) out.push(fail(at("data_trace_enabled"), "data_trace_enabled = true logs full request and response bodies"));
    return out.length > 0 ? out : pass();
  },
};

export const APIGW_THROTTLING: PolicyRule = {
  id: "CF-APIGW-4",
  title: "Stages set their own throttling",
  severity: "error",
  resourceTypes: STAGE,
  rationale:
    "Without stage throttling an API shares the account-wide limit (10,000 rps) with every other API, and one client " +
    "can push a miss storm through to the table.",
  remediation: "Set throttling_rate_limit and throttling_burst_limit (> 0) in the \"*/*\" method settings of the stage.",
  references: { cdkNag: ["Serverless-APIGWDefaultThrottling"] },
  props: { throttling_rate_limit: byProps("CacheApi.throttlingRateLimit"), throttling_burst_limit: byProps("CacheApi.throttlingBurstLimit"), "*": setBy("CacheApi") },
  evaluate(stage, { model }) {
    const found = allMethodsSettings(model, stage);
    if (!("values" in found)) return found;
    const out: RuleOutcome[] = [];
    for (const k of ["throttling_rate_limit", "throttling_burst_limit"]) {
      const v = model.value(found, `settings.${k}`);
      const at = `${found.address}.settings.${k}`;
      if (v.state === "unknown") out.push(unresolved(at, v.expression));
      else if (v.state === "absent") out.push(fail(at, `${k} is not set (the account-level limit applies)`));
      else {
        const n = asNumber(v.value);
        if (n === undefined || n <= 0) out.push(fail(at, `${k} = ${show(v.value)}; a positive limit is required (-1 means none)`));
      }
    }
    return out.length > 0 ? out : pass();
  },
};

function nonEmptyMap(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length > 0;
}

export const APIGW_REQUEST_VALIDATION: PolicyRule = {
  id: "CF-APIGW-5",
  title: "Methods with parameters or bodies validate them",
  severity: "warning",
  resourceTypes: METHOD,
  rationale: "A request validator rejects malformed parameters and bodies at the edge (400) before they cost a Lambda invocation or reach the handler.",
  remediation: "Set request_validator_id to an aws_api_gateway_request_validator validating parameters (and the body when request_models is set).",
  references: { checkov: ["CKV2_AWS_53"], cdkNag: ["AwsSolutions-APIG2"] },
  props: { "*": setBy("CacheApi, from each route's parameters and body schema") },
  evaluate(m, { model }) {
    const params = model.value(m, "request_parameters");
    const models = model.value(m, "request_models");
    const hasParams = params.state === "known" && nonEmptyMap(params.value);
    const hasBody = models.state === "known" && nonEmptyMap(models.value);
    if (params.state === "unknown" || models.state === "unknown") return unknown("request_parameters", "parameters or models are an expression");
    if (!hasParams && !hasBody) return notApplicable();
    const p = model.follow(m, "request_validator_id");
    if (p.kind === "absent") return fail("request_validator_id", `the method declares ${hasBody ? "a body model" : "parameters"} but has no request validator`);
    if (p.kind === "unknown") return unresolved("request_validator_id", p.expression);
    const validator = p.kind === "resource" ? p.resource : undefined;
    if (!validator || validator.type !== "aws_api_gateway_request_validator") {
      return unknown("request_validator_id", "the request validator is not defined in this stack");
    }
    const out: RuleOutcome[] = [];
    if (hasParams && asBool(valueAt(validator.values, "validate_request_parameters")) !== true) {
      out.push(fail("request_validator_id", `${validator.address} does not validate request parameters`));
    }
    if (hasBody && asBool(valueAt(validator.values, "validate_request_body")) !== true) {
      out.push(fail("request_validator_id", `${validator.address} does not validate the request body`));
    }
    return out.length > 0 ? out : pass();
  },
};

const WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE", "ANY"];
const AUTHORIZERS = ["AWS_IAM", "COGNITO_USER_POOLS", "CUSTOM"];

export const APIGW_WRITE_AUTH: PolicyRule = {
  id: "CF-APIGW-6",
  title: "Write methods require authorization (IAM, Cognito, custom authorizer, or API key with a usage plan)",
  severity: "error",
  resourceTypes: METHOD,
  rationale: "POST, PUT, PATCH and DELETE change data; without authorization anyone who finds the URL can write.",
  remediation:
    "With CacheApi: declare the route `access: \"caller\"` and set `authorization: Authorization.jwt({ issuer, audience })`, " +
    "`Authorization.cognito(userPoolArn)` or `Authorization.iam()`. In Terraform: authorization AWS_IAM, COGNITO_USER_POOLS or CUSTOM " +
    "(with authorizer_id); api_key_required = true with a usage plan and key satisfies this rule, but not CF-APIGW-7 (a key is not an identity).",
  references: { checkov: ["CKV_AWS_59", "CKV2_AWS_70"], cdkNag: ["AwsSolutions-APIG4", "AwsSolutions-COG4"] },
  props: { "*": byProps(["CacheApi.authorization", "ApiRoute.apiKeyRequired"], "a contract route's access: \"caller\" (or \"apiKey\")") },
  evaluate(m, { model }) {
    const verb = model.value(m, "http_method");
    if (verb.state === "unknown") return unresolved("http_method", verb.expression);
    if (verb.state !== "known" || !WRITE_METHODS.includes(String(verb.value).toUpperCase())) return notApplicable();
    const auth = model.value(m, "authorization");
    if (auth.state === "unknown") return unresolved("authorization", auth.expression);
    const kind = auth.state === "known" ? String(auth.value).toUpperCase() : "NONE";
    if (AUTHORIZERS.includes(kind)) {
      if (kind !== "AWS_IAM" && model.value(m, "authorizer_id").state === "absent") {
        return fail("authorizer_id", `authorization = ${kind} needs authorizer_id`);
      }
      return pass();
    }
    const key = model.value(m, "api_key_required");
    if (key.state === "unknown") return unresolved("api_key_required", key.expression);
    if (key.state === "absent" || asBool(key.value) !== true) {
      return fail(key.state === "absent" ? "authorization" : "api_key_required",
        `${String(verb.value)} with authorization = ${show(auth.state === "known" ? auth.value : "NONE")} and no API key: anyone can call it`);
    }
    // An API key only means something when a usage plan with a key covers this API.
    const api = model.follow(m, "rest_api_id");
    const plans = model.ofType("aws_api_gateway_usage_plan").filter((plan) =>
      many(valueAt(plan.values, "api_stages")).some((_, i) => samePointer(model.follow(plan, `api_stages.${i}.api_id`), api) === true));
    if (plans.length === 0) {
      return fail("api_key_required", "api_key_required = true, but no aws_api_gateway_usage_plan in the stack covers this API, so no key is valid");
    }
    const keyed = plans.some((plan) => model.ofType("aws_api_gateway_usage_plan_key").some((k) => model.designates(k, "usage_plan_id", plan)));
    if (!keyed) return fail("api_key_required", "the usage plan covering this API has no aws_api_gateway_usage_plan_key");
    return pass();
  },
};

export const API_GATEWAY_RULES: readonly PolicyRule[] = [
  APIGW_ACCESS_LOGS, APIGW_XRAY, APIGW_METHOD_SETTINGS, APIGW_THROTTLING, APIGW_REQUEST_VALIDATION, APIGW_WRITE_AUTH,
];
