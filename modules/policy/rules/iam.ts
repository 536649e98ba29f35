/** IAM rules: no `*` actions, data-plane actions scoped to ARNs, no broad AWS managed policies, one-service trust, no service-wide wildcards. */
import { DocumentView, readPolicyDocument, serviceOf, StatementView } from "../documents";
import { many, TerraformModel, TfResource } from "../model";
import type { RuleOutcome } from "../types";
import { byProps, fail, notApplicable, pass, PolicyRule, setBy, setByWiring, unknown } from "../rule";
import { show } from "./util";

/** Services whose actions must name ARNs, never `*`: data of every table, cluster, secret, key or bucket would be reachable. */
export const SCOPED_SERVICES: readonly string[] = ["dynamodb", "dax", "secretsmanager", "kms", "elasticache", "s3"];

/** Resources that carry identity policies. */
export const POLICY_TYPES = ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy", "aws_iam_role"];

/** The identity policies a resource carries: `[attribute path, document]`. */
function documentsOf(model: TerraformModel, r: TfResource): Array<[string, DocumentView]> {
  if (r.type === "aws_iam_role") {
    return many(r.values.inline_policy).map((_, i) => [`inline_policy.${i}.policy`, readPolicyDocument(model, r, `inline_policy.${i}.policy`)]);
  }
  return [["policy", readPolicyDocument(model, r, "policy")]];
}

/** Runs `check` on every Allow statement of `r`'s policies; its outcomes, else pass (not applicable without a policy). */
export function eachAllow(
  model: TerraformModel,
  r: TfResource,
  check: (s: StatementView, at: string) => RuleOutcome | undefined,
): RuleOutcome | RuleOutcome[] {
  const docs = documentsOf(model, r);
  if (docs.length === 0) return notApplicable();
  const out: RuleOutcome[] = [];
  for (const [at, doc] of docs) {
    if (!doc.ok) {
      out.push(unknown(at, `cannot read the policy: ${doc.reason}`));
      continue;
    }
    doc.statements.forEach((s, i) => {
      if (s.effect !== "Allow") return;
      const o = check(s, `${at} Statement[${i}]`);
      if (o) out.push(o);
    });
  }
  return out.length > 0 ? out : pass();
}

const isWildcardAction = (a: string) => a.trim() === "*" || a.trim() === "*:*";
const isExpr = (a: string) => a.includes("${");

export const IAM_NO_STAR_ACTION: PolicyRule = {
  id: "CF-IAM-1",
  title: "No policy allows action \"*\"",
  severity: "error",
  resourceTypes: POLICY_TYPES,
  rationale: "Action \"*\" (or Allow with NotAction) is administrator access: every service, every API, including IAM itself.",
  remediation: "List the actions the principal needs (the modules' grant methods do); never Allow \"*\" or use NotAction with Allow.",
  references: {
    checkov: ["CKV_AWS_1", "CKV_AWS_49", "CKV_AWS_62", "CKV_AWS_63"],
    securityHub: ["IAM.1", "IAM.21"],
    cdkNag: ["AwsSolutions-IAM5", "NIST.800.53.R5-IAMPolicyNoStatementsWithAdminAccess"],
  },
  props: { "*": setByWiring("useTable, useCache, useDax and the grant methods list each action") },
  evaluate(r, { model }) {
    return eachAllow(model, r, (s, at) => {
      if (s.notActions) return fail(`${at}.NotAction`, "Allow with NotAction grants every action not listed");
      if (s.actions.length === 0) return fail(`${at}.Action`, "the statement has no Action");
      if (s.actions.some(isWildcardAction)) return fail(`${at}.Action`, "Action \"*\" allows every action of every service");
      if (s.actions.some(isExpr)) return unknown(`${at}.Action`, "an action is an expression");
      return undefined;
    });
  },
};

/** True for `*` and ARNs whose resource part is only a wildcard (`arn:aws:dynamodb:*:*:*`). */
function isWildcardResource(res: string): boolean {
  const t = res.trim();
  return t === "*" || /^arn:[^:]*:[^:]*:[^:]*:[^:]*:\*$/.test(t);
}

export const IAM_SCOPED_RESOURCES: PolicyRule = {
  id: "CF-IAM-2",
  title: "Data-plane actions (dynamodb, dax, secretsmanager, kms, elasticache, s3) name their resources",
  severity: "error",
  resourceTypes: POLICY_TYPES,
  rationale:
    "Resource \"*\" on a data-plane action reaches every table, cluster, secret, key or bucket in the account, not just the " +
    "one the function or build was wired to.",
  remediation: "Replace \"*\" with the ARNs of the tables, clusters, secrets, keys or buckets used (plus /index/* for table indexes, /* for objects).",
  references: { checkov: ["CKV_AWS_355", "CKV_AWS_356"], cdkNag: ["AwsSolutions-IAM5"] },
  props: { "*": setByWiring("useTable, useCache, useDax and the grant methods name each ARN") },
  evaluate(r, { model }) {
    return eachAllow(model, r, (s, at) => {
      const scoped = s.actions.filter((a) => !isWildcardAction(a) && SCOPED_SERVICES.includes(serviceOf(a)));
      if (scoped.length === 0) return undefined;
      if (s.notResources) return fail(`${at}.NotResource`, `${scoped.join(", ")} with NotResource reaches every other resource`);
      const wild = s.resources.filter(isWildcardResource);
      if (s.resources.length === 0 || wild.length > 0) {
        return fail(`${at}.Resource`, `${scoped.slice(0, 3).join(", ")}${scoped.length > 3 ? ", ..." : ""} on ${show(wild[0] ?? "no resource")}`);
      }
      return undefined;
    });
  },
};

/** AWS managed policies too broad for a workload role. */
export const BROAD_MANAGED_POLICIES: readonly string[] = [
  "AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AmazonDynamoDBFullAccess", "AmazonDynamoDBFullAccesswithDataPipeline",
  "AmazonElastiCacheFullAccess", "AmazonMemoryDBFullAccess", "SecretsManagerReadWrite", "AWSLambda_FullAccess", "AWSLambdaFullAccess",
  "AmazonVPCFullAccess", "AmazonEC2FullAccess", "AmazonAPIGatewayAdministrator", "CloudWatchLogsFullAccess", "AmazonS3FullAccess",
  "AWSKeyManagementServicePowerUser",
];

const ATTACHMENT_TYPES = [
  "aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment", "aws_iam_policy_attachment",
];

function broadPolicy(arn: string): string | undefined {
  const m = /^arn:aws[a-z-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn.trim());
  if (!m) return undefined;
  return BROAD_MANAGED_POLICIES.includes(m[1]) || /FullAccess$/.test(m[1]) ? m[1] : undefined;
}

export const IAM_NO_BROAD_MANAGED_POLICIES: PolicyRule = {
  id: "CF-IAM-3",
  title: "No AdministratorAccess or other broad AWS managed policies",
  severity: "error",
  resourceTypes: [...ATTACHMENT_TYPES, "aws_iam_role", "aws_iam_role_policy_attachments_exclusive"],
  rationale: "AWS managed *FullAccess and administrator policies grant whole services (or everything) to a role that needs a few actions on a few ARNs.",
  remediation: "Detach the managed policy and grant the specific actions on specific ARNs with an inline policy (table.grantReadData(fn), …).",
  references: { checkov: ["CKV_AWS_274", "CKV_AWS_275", "CKV2_AWS_56"], cdkNag: ["AwsSolutions-IAM4"] },
  props: { "*": setBy("the constructs' roles, which carry inline policies only") },
  evaluate(r, { model }) {
    const attr = r.type === "aws_iam_role" ? "managed_policy_arns" : r.type === "aws_iam_role_policy_attachments_exclusive" ? "policy_arns" : "policy_arn";
    const v = model.value(r, attr);
    if (v.state === "absent") return r.type === "aws_iam_role" ? notApplicable() : fail(attr, `${attr} is not set`);
    if (v.state === "unknown") {
      const pointers = model.followAll(r, attr);
      if (pointers.every((p) => p.kind === "resource" && p.resource.type === "aws_iam_policy")) return pass();
      return unknown(attr, `${attr} is an expression`);
    }
    const out: RuleOutcome[] = [];
    for (const arn of many(v.value)) {
      if (typeof arn !== "string") continue;
      if (arn.includes("${")) {
        const ref = model.followAll(r, attr).find((p) => p.kind === "unknown");
        if (ref) out.push(unknown(attr, `a policy ARN is an expression ${show(arn)}`));
        continue;
      }
      const broad = broadPolicy(arn);
      if (broad) out.push(fail(attr, `attaches the AWS managed policy ${broad}`));
    }
    return out.length > 0 ? out : pass();
  },
};

export const IAM_ONE_SERVICE_TRUST: PolicyRule = {
  id: "CF-IAM-4",
  title: "Roles are trusted by one AWS service only",
  severity: "error",
  resourceTypes: ["aws_iam_role"],
  rationale:
    "A role is as wide as the set of principals that can assume it: another service, an account, a federated identity or \"*\" " +
    "in the trust policy gets every permission the role holds. The modules create one role per service use.",
  remediation:
    "Make assume_role_policy allow sts:AssumeRole to one service principal (e.g. codebuild.amazonaws.com) only; give another caller a role of its own.",
  references: { checkov: ["CKV_AWS_60", "CKV_AWS_61"] },
  props: { "*": byProps("Role.assumedBy") },
  evaluate(r, { model }) {
    const doc = readPolicyDocument(model, r, "assume_role_policy");
    if (!doc.ok) {
      return model.value(r, "assume_role_policy").state === "absent"
        ? fail("assume_role_policy", "assume_role_policy is not set")
        : unknown("assume_role_policy", `cannot read the trust policy: ${doc.reason}`);
    }
    const allows = doc.statements.filter((s) => s.effect === "Allow");
    if (allows.length === 0) return fail("assume_role_policy", "the trust policy allows no one");
    const services = new Set<string>();
    for (const s of allows) {
      const others = Object.entries(s.principals).filter(([type]) => type !== "Service");
      if (others.length > 0 || Object.keys(s.principals).length === 0) {
        const who = others.map(([t, ids]) => `${t}: ${ids.join(", ")}`).join("; ") || "no principal";
        return fail("assume_role_policy", `the trust policy admits ${who}, not only a service`);
      }
      for (const id of s.principals.Service) services.add(id);
    }
    if ([...services].some(isExpr)) return unknown("assume_role_policy", "a service principal is an expression");
    return services.size === 1 ? pass() : fail("assume_role_policy", `the trust policy admits ${services.size} services: ${[...services].join(", ")}`);
  },
};

/** True for `<service>:*`, every action of one service. */
const isServiceWildcard = (a: string) => /^[a-z0-9-]+:\*$/i.test(a.trim());

export const IAM_NO_SERVICE_WILDCARDS: PolicyRule = {
  id: "CF-IAM-5",
  title: "No service-wide action wildcards (\"s3:*\"), no iam:PassRole on \"*\"",
  severity: "error",
  resourceTypes: POLICY_TYPES,
  rationale:
    "\"s3:*\" grants every action of the service, including deleting buckets and rewriting their policies, where a pipeline or " +
    "function needs a few reads and writes; iam:PassRole on \"*\" lets the holder hand any role, admin included, to a service it controls.",
  remediation:
    "List the actions needed (the modules' grant methods do) and name the roles iam:PassRole may pass; suppress the rule, with the reason, only on a deploy role.",
  references: { cdkNag: ["AwsSolutions-IAM5"] },
  props: { "*": byProps("DeliveryPipeline.deployPolicyArns", "the deploy roles' policy is derived from the stacks they deploy; other roles' actions come from wiring") },
  evaluate(r, { model }) {
    return eachAllow(model, r, (s, at) => {
      const wild = s.actions.filter((a) => isServiceWildcard(a) && !isWildcardAction(a));
      if (wild.length > 0) return fail(`${at}.Action`, `${wild.slice(0, 3).join(", ")}${wild.length > 3 ? ", ..." : ""} allows every action of the service`);
      const passRole = s.actions.some((a) => /^iam:(passrole|pass\*|\*)$/i.test(a.trim()));
      if (passRole && (s.resources.some(isWildcardResource) || s.notResources)) return fail(`${at}.Resource`, "iam:PassRole on \"*\" can pass any role");
      return undefined;
    });
  },
};

export const IAM_RULES: readonly PolicyRule[] = [
  IAM_NO_STAR_ACTION, IAM_SCOPED_RESOURCES, IAM_NO_BROAD_MANAGED_POLICIES, IAM_ONE_SERVICE_TRUST, IAM_NO_SERVICE_WILDCARDS,
];
