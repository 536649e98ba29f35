/** CloudFront distribution rules: HTTPS only on both legs, a modern TLS policy, standard logs, WAF in prod. */
import { isExpression, many, valueAt } from "../model";
import type { RuleOutcome } from "../types";
import { byProps, fail, pass, PolicyRule, setBy } from "../rule";
import { show, unresolved } from "./util";

const DISTRIBUTION = ["aws_cloudfront_distribution"];
const VIEWER_HTTPS = ["https-only", "redirect-to-https"];
/** Viewer TLS policies at least as strict as TLSv1.2_2021. */
export const MODERN_TLS_POLICIES = ["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"];

/** Every cache behaviour of a distribution (the default one first) with the attribute path it lives at. */
function behaviours(values: Record<string, unknown>): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const d = valueAt(values, "default_cache_behavior");
  if (d !== undefined) out.push(["default_cache_behavior", d]);
  many(values.ordered_cache_behavior).forEach((b, i) => out.push([`ordered_cache_behavior.${i}`, b]));
  return out;
}

export const CLOUDFRONT_HTTPS_ONLY: PolicyRule = {
  id: "CF-CF-1",
  title: "Distributions speak HTTPS only, to viewers and to their origins",
  severity: "error",
  resourceTypes: DISTRIBUTION,
  rationale:
    "A behaviour that allows HTTP serves answers (and takes tokens) in clear text; an origin reached over HTTP carries them, " +
    "and the origin-verify secret, across the internet unencrypted.",
  remediation:
    "Set viewer_protocol_policy = \"https-only\" (or \"redirect-to-https\") on every cache behaviour, and custom_origin_config " +
    "{ origin_protocol_policy = \"https-only\", origin_ssl_protocols = [\"TLSv1.2\"] } on every custom origin.",
  references: { checkov: ["CKV_AWS_34"], securityHub: ["CloudFront.3", "CloudFront.9", "CloudFront.10"], cdkNag: ["AwsSolutions-CFR4"] },
  props: { "*": setBy("CacheEdge") },
  evaluate(r) {
    const out: RuleOutcome[] = [];
    for (const [at, b] of behaviours(r.values)) {
      const policy = valueAt(b, "viewer_protocol_policy");
      if (isExpression(policy)) out.push(unresolved(`${at}.viewer_protocol_policy`, policy));
      else if (!VIEWER_HTTPS.includes(String(policy))) {
        out.push(fail(`${at}.viewer_protocol_policy`, `viewer_protocol_policy = ${show(policy)}; expected "https-only" or "redirect-to-https"`));
      }
    }
    if (behaviours(r.values).length === 0) out.push(fail("default_cache_behavior", "no default_cache_behavior"));
    many(r.values.origin).forEach((o, i) => {
      const custom = valueAt(o, "custom_origin_config");
      if (custom === undefined) return; // S3 origins: reached over HTTPS by CloudFront itself
      const policy = valueAt(custom, "origin_protocol_policy");
      if (isExpression(policy)) out.push(unresolved(`origin.${i}.custom_origin_config.origin_protocol_policy`, policy));
      else if (policy !== "https-only") out.push(fail(`origin.${i}.custom_origin_config.origin_protocol_policy`, `origin_protocol_policy = ${show(policy)}; expected "https-only"`));
      const weak = many(valueAt(custom, "origin_ssl_protocols")).filter((p) => p !== "TLSv1.2");
      if (weak.length > 0) out.push(fail(`origin.${i}.custom_origin_config.origin_ssl_protocols`, `origin_ssl_protocols include ${show(weak)}; only "TLSv1.2"`));
    });
    const failed = out.filter((o) => o.status === "fail");
    return failed.length > 0 ? failed : out.length > 0 ? out : pass();
  },
};

export const CLOUDFRONT_TLS_POLICY: PolicyRule = {
  id: "CF-CF-2",
  title: "Distributions require TLS 1.2 (the 2021 policy or later) from viewers",
  severity: "error",
  resourceTypes: DISTRIBUTION,
  rationale:
    "Older security policies accept TLS 1.0/1.1 and weak ciphers. The default *.cloudfront.net certificate is always served under " +
    "CloudFront's TLSv1 policy, so only a custom domain with its own certificate can raise it.",
  remediation:
    "Give the distribution a custom domain: viewer_certificate { acm_certificate_arn = <ACM certificate in us-east-1>, " +
    "ssl_support_method = \"sni-only\", minimum_protocol_version = \"TLSv1.2_2021\" } (CacheEdge.domain).",
  references: { checkov: ["CKV_AWS_174"], securityHub: ["CloudFront.7", "CloudFront.8"], cdkNag: ["AwsSolutions-CFR5"] },
  props: { viewer_certificate: byProps("CacheEdge.domain"), "*": setBy("CacheEdge") },
  evaluate(r) {
    const cert = valueAt(r.values, "viewer_certificate");
    if (cert === undefined || String(valueAt(cert, "cloudfront_default_certificate")) === "true") {
      return fail("viewer_certificate.cloudfront_default_certificate",
        "the default *.cloudfront.net certificate: CloudFront serves it under its TLSv1 policy (TLS 1.0 and 1.1 accepted)");
    }
    const min = valueAt(cert, "minimum_protocol_version");
    if (isExpression(min)) return unresolved("viewer_certificate.minimum_protocol_version", min);
    if (!MODERN_TLS_POLICIES.includes(String(min))) {
      return fail("viewer_certificate.minimum_protocol_version", `minimum_protocol_version = ${show(min)}; expected one of ${MODERN_TLS_POLICIES.join(", ")}`);
    }
    const method = valueAt(cert, "ssl_support_method");
    if (method !== undefined && method !== "sni-only" && method !== "vip") return fail("viewer_certificate.ssl_support_method", `ssl_support_method = ${show(method)}`);
    return pass();
  },
};

export const CLOUDFRONT_LOGGING: PolicyRule = {
  id: "CF-CF-3",
  title: "Distributions write standard logs",
  severity: "error",
  resourceTypes: DISTRIBUTION,
  rationale: "The standard logs are the only record of who asked the edge for what and which answers it served from its cache.",
  remediation:
    "Set logging_config { bucket = \"<bucket>.s3.amazonaws.com\" } (a bucket with ACLs enabled: BucketOwnerPreferred), " +
    "or deliver standard logs v2 with aws_cloudwatch_log_delivery_source naming the distribution.",
  references: { checkov: ["CKV_AWS_86"], securityHub: ["CloudFront.5"], cdkNag: ["AwsSolutions-CFR3"] },
  props: { "*": setBy("CacheEdge (its log bucket)") },
  evaluate(r, { model }) {
    const bucket = valueAt(r.values, "logging_config.bucket");
    if (bucket !== undefined && String(bucket).trim() !== "") return pass();
    // Standard logging v2: a CloudWatch Logs delivery source of this distribution.
    const v2 = model.ofType("aws_cloudwatch_log_delivery_source").some((s) => model.designates(s, "resource_arn", r, "arn"));
    return v2 ? pass() : fail("logging_config.bucket", "no logging_config bucket and no log delivery source: the distribution keeps no access logs");
  },
};

export const CLOUDFRONT_WAF: PolicyRule = {
  id: "CF-CF-4",
  title: "Distributions are behind an AWS WAF web ACL (prod)",
  severity: "error",
  profiles: ["prod"],
  resourceTypes: DISTRIBUTION,
  rationale:
    "The edge is the internet-facing door: without a web ACL, floods and known-bad inputs reach the API (and its bill) unfiltered " +
    "wherever the API's own regional ACL is bypassed by design.",
  remediation: "Set web_acl_id to the ARN of a CLOUDFRONT-scope aws_wafv2_web_acl (created in us-east-1).",
  references: { checkov: ["CKV_AWS_68"], securityHub: ["CloudFront.6"], cdkNag: ["AwsSolutions-CFR2"] },
  props: { "*": byProps("CacheEdge.waf") },
  evaluate(r) {
    const acl = valueAt(r.values, "web_acl_id");
    return acl === undefined || String(acl).trim() === "" ? fail("web_acl_id", "no web ACL: every request reaches the origin unfiltered") : pass();
  },
};

export const CLOUDFRONT_RULES: readonly PolicyRule[] = [CLOUDFRONT_HTTPS_ONLY, CLOUDFRONT_TLS_POLICY, CLOUDFRONT_LOGGING, CLOUDFRONT_WAF];
