/** API Gateway (REST API) rules about who gets in: every method verifies its caller, and prod stages sit behind WAF. */
import { TerraformModel, TfResource } from "../model";
import { byProps, fail, notApplicable, pass, PolicyRule, unknown } from "../rule";
import { show, unresolved } from "./util";

/** Authorization types that verify who the caller is (an API key does not). */
const IDENTITY_AUTHORIZATION = ["AWS_IAM", "COGNITO_USER_POOLS", "CUSTOM"];

/**
 * The last path segment of a method's resource (`health` for `/health`), `/` for the root, or
 * undefined when the resource is not in this stack.
 */
function lastSegment(model: TerraformModel, method: TfResource): string | undefined {
  const p = model.follow(method, "resource_id");
  if (p.kind === "resource") {
    if (p.resource.type === "aws_api_gateway_rest_api") return "/";
    const part = model.value(p.resource, "path_part");
    return part.state === "known" ? String(part.value) : undefined;
  }
  return undefined;
}

export const APIGW_CALLER_AUTH: PolicyRule = {
  id: "CF-APIGW-7",
  title: "Methods other than health checks verify the caller (IAM, Cognito or a Lambda authorizer); public ones say why",
  severity: "error",
  resourceTypes: ["aws_api_gateway_method"],
  rationale:
    "A method with authorization NONE answers anyone who finds the URL, and on per-customer data anyone who learns an id. " +
    "An API key names a calling application for usage plans; AWS advises against using it for authorization.",
  remediation:
    "With CacheApi: declare the route `access: \"caller\"` in its contract and set `authorization: Authorization.jwt({ issuer, audience })`, " +
    "`Authorization.cognito(userPoolArn)` or `Authorization.iam()`; a route public by design states its `publicReason` (recorded as this " +
    "rule's suppression). In Terraform: authorization AWS_IAM, COGNITO_USER_POOLS or CUSTOM with authorizer_id, or suppressRule(method, \"CF-APIGW-7\", reason).",
  references: { checkov: ["CKV_AWS_59"], cdkNag: ["AwsSolutions-APIG4", "AwsSolutions-COG4"] },
  props: { "*": byProps("CacheApi.authorization", "a contract route's access: \"caller\", or its publicReason") },
  evaluate(m, { model }) {
    const verb = model.value(m, "http_method");
    if (verb.state === "unknown") return unresolved("http_method", verb.expression);
    // Browsers send CORS preflights without credentials; they cannot be authorized.
    if (verb.state === "known" && String(verb.value).toUpperCase() === "OPTIONS") return notApplicable();
    if (lastSegment(model, m) === "health") return notApplicable();
    const auth = model.value(m, "authorization");
    if (auth.state === "unknown") return unresolved("authorization", auth.expression);
    const kind = auth.state === "known" ? String(auth.value).toUpperCase() : "NONE";
    if (IDENTITY_AUTHORIZATION.includes(kind)) {
      if (kind === "AWS_IAM") return pass();
      const authorizer = model.follow(m, "authorizer_id");
      if (authorizer.kind === "absent") return fail("authorizer_id", `authorization = ${kind} without authorizer_id verifies no one`);
      if (authorizer.kind === "unknown") return unresolved("authorizer_id", authorizer.expression);
      return pass();
    }
    const key = model.value(m, "api_key_required");
    const keyed = key.state === "known" && (key.value === true || key.value === "true");
    return fail("authorization", `${show(verb.state === "known" ? verb.value : "?")} with authorization = ${show(kind)}` +
      (keyed ? ": an API key identifies an application, not the caller" : ": anyone who finds the URL can call it"));
  },
};

export const APIGW_WAF: PolicyRule = {
  id: "CF-APIGW-8",
  title: "Prod stages sit behind an AWS WAF web ACL",
  severity: "warning",
  profiles: ["prod"],
  resourceTypes: ["aws_api_gateway_stage"],
  rationale:
    "WAF blocks common exploits, known bad inputs and single-IP floods before they cost a Lambda invocation or a cache miss; " +
    "stage throttling alone cannot tell an abuser from a customer.",
  remediation: "With CacheApi: `waf: {}` (the prod default) or an existing WebAcl. In Terraform: an aws_wafv2_web_acl_association with resource_arn = the stage's arn.",
  references: { checkov: ["CKV2_AWS_29"], securityHub: ["APIGateway.4"], cdkNag: ["AwsSolutions-APIG3"] },
  props: { "*": byProps("CacheApi.waf") },
  evaluate(stage, { model }) {
    const associations = model.ofType("aws_wafv2_web_acl_association");
    if (associations.some((a) => model.designates(a, "resource_arn", stage, "arn"))) return pass();
    const opaque = associations.find((a) => model.follow(a, "resource_arn").kind === "unknown");
    if (opaque) return unknown("aws_wafv2_web_acl_association.resource_arn", `${opaque.address} names its resource with an expression`);
    return fail("aws_wafv2_web_acl_association.resource_arn", "no aws_wafv2_web_acl_association puts a web ACL in front of this stage");
  },
};

export const API_GATEWAY_AUTH_RULES: readonly PolicyRule[] = [APIGW_CALLER_AUTH, APIGW_WAF];
