/**
 * A regional AWS WAF web ACL in front of an API stage: AWS's managed rule groups for common
 * exploits and known bad inputs, a per-IP rate limit, and logs (tokens and API keys redacted):
 *   const acl = new WebAcl(this, "waf", { rateLimitPer5Minutes: 1000 });
 *   new CacheApi(this, "api", { functions: [fn], waf: acl });   // or `waf: { rateLimitPer5Minutes: 1000 }`
 * The association with a stage is made by the API, in the API's stack.
 */
import { Wafv2WebAcl, Wafv2WebAclRule } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { physicalName } from "../core/naming";
import { Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import { LogGroup } from "../logs";

/** AWS managed rule groups a {@link WebAcl} may run (the baseline ones, free of WCU surprises). */
export const MANAGED_RULE_GROUPS = [
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
  "AWSManagedRulesAmazonIpReputationList",
  "AWSManagedRulesAnonymousIpList",
  "AWSManagedRulesSQLiRuleSet",
] as const;
/** One of {@link MANAGED_RULE_GROUPS}. */
export type ManagedRuleGroup = (typeof MANAGED_RULE_GROUPS)[number];

/** Props of {@link WebAcl}. */
export interface WebAclProps {
  /**
   * AWS managed rule groups to run, in this order, each blocking what it matches.
   * @default ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"]
   */
  readonly managedRuleGroups?: readonly ManagedRuleGroup[];
  /**
   * Requests one client IP may send in any 5 minutes before WAF blocks it (100-2,000,000,000). A
   * backstop against a single abuser; stage throttling still caps the total.
   * @default 2000
   */
  readonly rateLimitPer5Minutes?: number;
  /**
   * Days to keep the WAF logs (`aws-waf-logs-…`).
   * @default 90 in prod, 14 in dev
   */
  readonly logRetentionDays?: number;
  /**
   * What the ACL protects: `REGIONAL` (an API stage) or `CLOUDFRONT` (a distribution; AWS requires
   * such an ACL, and its log group, in us-east-1: pass a us-east-1 `provider` when the stack's
   * region is another).
   * @default "REGIONAL"
   */
  readonly scope?: "REGIONAL" | "CLOUDFRONT";
  /**
   * The AWS provider (region) the ACL, its log group and its logging are created with.
   * @default the stack's default AWS provider
   */
  readonly provider?: TerraformProvider;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

/** Headers whose values WAF must never write to its logs: bearer tokens, SigV4 signatures, API keys. */
export const REDACTED_HEADERS = ["authorization", "x-api-key", "x-amz-security-token"] as const;

/** A WAFv2 rule as the provider binding takes it (`statement` in Terraform's own names: it is untyped there). */
type AclRule = Wafv2WebAclRule & Record<string, unknown>;

/** A regional WAFv2 web ACL with managed rule groups, a rate-based rule and CloudWatch logging. */
export class WebAcl extends Construct {
  /** The Terraform `aws_wafv2_web_acl` resource. */
  public readonly resource: Wafv2WebAcl;
  /** The log group WAF writes to (its name starts with `aws-waf-logs-`, as WAF requires). */
  public readonly logGroup: LogGroup;
  /** Sends the ACL's logs to `logGroup`, with credentials redacted. */
  public readonly logging: Wafv2WebAclLoggingConfiguration;
  /** @attribute The web ACL's ARN. */
  public readonly webAclArn: string;
  /** Rule groups in force, after defaults. */
  public readonly managedRuleGroups: readonly ManagedRuleGroup[];
  /** Per-IP limit in force, after defaults. */
  public readonly rateLimitPer5Minutes: number;
  /** `REGIONAL` or `CLOUDFRONT`, after defaults. */
  public readonly scope: "REGIONAL" | "CLOUDFRONT";
  /** The rules of the managed groups and the rate limit, as first written (`requireHeader` puts its rule before them). */
  private readonly baseRules: AclRule[];
  private readonly visibility: (n: string) => { cloudwatchMetricsEnabled: boolean; sampledRequestsEnabled: boolean; metricName: string };
  private readonly required = new Map<string, string>();

  constructor(scope: Construct, id: string, props: WebAclProps = {}) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    this.managedRuleGroups = [...(props.managedRuleGroups ?? ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"])];
    this.rateLimitPer5Minutes = props.rateLimitPer5Minutes ?? 2000;
    const v = PropsValidator.for(this).intRange("rateLimitPer5Minutes", this.rateLimitPer5Minutes, 100, 2_000_000_000);
    this.managedRuleGroups.forEach((g, i) => v.oneOf(`managedRuleGroups[${i}]`, g, MANAGED_RULE_GROUPS));
    v.check(new Set(this.managedRuleGroups).size === this.managedRuleGroups.length, "managedRuleGroups", this.managedRuleGroups, "each group once");
    v.throwIfAny();

    this.scope = props.scope ?? "REGIONAL";
    const name = physicalName(this, 128);
    const metric = (n: string) => name.slice(0, 100).replace(/-[0-9a-f]{6}$/, "") + `-${n}`;
    const visibility = (n: string) => ({ cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: metric(n) });
    this.visibility = visibility;
    this.baseRules = [
      ...this.managedRuleGroups.map((group, i) => ({
        name: group,
        priority: i,
        overrideAction: { none: {} },
        // `statement` is untyped in the provider bindings: written in Terraform's own names.
        statement: { managed_rule_group_statement: { name: group, vendor_name: "AWS" } },
        visibilityConfig: visibility(group),
      })),
      {
        name: "rate-per-ip",
        priority: this.managedRuleGroups.length,
        action: { block: {} },
        statement: { rate_based_statement: { limit: this.rateLimitPer5Minutes, aggregate_key_type: "IP", evaluation_window_sec: 300 } },
        visibilityConfig: visibility("rate-per-ip"),
      },
    ];
    this.resource = new Wafv2WebAcl(this, "acl", {
      name,
      description: `Managed rules and a per-IP rate limit for ${this.node.path}`,
      scope: this.scope,
      defaultAction: { allow: {} },
      visibilityConfig: visibility("all"),
      rule: this.baseRules,
      provider: props.provider,
    });
    this.webAclArn = this.resource.arn;

    // WAF adds the log group's resource policy itself when the deployer may (logs:PutResourcePolicy);
    // an explicit one per stack would eat into the account's 10 resource policies per region.
    this.logGroup = new LogGroup(this, "logs", {
      name: `aws-waf-logs-${name}`.slice(0, 512), retentionDays: props.logRetentionDays, provider: props.provider, profile,
    });
    this.logging = new Wafv2WebAclLoggingConfiguration(this, "logging", {
      resourceArn: this.resource.arn,
      logDestinationConfigs: [this.logGroup.logGroupArn],
      redactedFields: REDACTED_HEADERS.map((h) => ({ singleHeader: { name: h } })),
      provider: props.provider,
    });
  }

  /**
   * Blocks, before any other rule, every request whose header `name` is not exactly `value` (a
   * secret an origin's only legitimate client adds, such as `CacheEdge`'s origin-verify header),
   * and keeps the header's value out of the WAF logs. It applies to every resource the ACL is
   * associated with.
   */
  requireHeader(name: string, value: string): this {
    const header = name.toLowerCase();
    if (this.required.has(header)) return this;
    this.required.set(header, value);
    const rules: AclRule[] = [...this.required.entries()].map(([h, v], i) => ({
      name: `require-${h}`.slice(0, 128),
      priority: i,
      action: { block: {} },
      statement: {
        not_statement: {
          statement: {
            byte_match_statement: {
              field_to_match: { single_header: { name: h } },
              positional_constraint: "EXACTLY",
              search_string: v,
              text_transformation: { priority: 0, type: "NONE" },
            },
          },
        },
      },
      visibilityConfig: this.visibility(`require-${h}`),
    }));
    this.resource.putRule([...rules, ...this.baseRules.map((r) => ({ ...r, priority: Number(r.priority) + rules.length }))]);
    this.logging.putRedactedFields([...REDACTED_HEADERS, ...this.required.keys()].map((h) => ({ singleHeader: { name: h } })));
    return this;
  }
}
