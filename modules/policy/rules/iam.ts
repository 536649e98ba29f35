/** IAM rules: no `*` actions, data-plane actions scoped to ARNs, no broad AWS managed policies. */
import { DocumentView, readPolicyDocument, serviceOf, StatementView } from "../documents";
import { many, TerraformModel, TfResource } from "../model";
import type { RuleOutcome } from "../types";
import { fail, notApplicable, pass, PolicyRule, setBy, setByWiring, unknown } from "../rule";
import { show } from "./util";

/** Services whose actions must name ARNs, never `*`: data of every table, cluster, secret or key would be reachable. */
export const SCOPED_SERVICES: readonly string[] = ["dynamodb", "dax", "secretsmanager", "kms", "elasticache"];

const POLICY_TYPES = ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy", "aws_iam_role"];

/** The identity policies a resource carries: `[attribute path, document]`. */
function documentsOf(model: TerraformModel, r: TfResource): Array<[string, DocumentView]> {
  if (r.type === "aws_iam_role") {
    return many(r.values.inline_policy).map((_, i) => [`inline_policy.${i}.policy`, readPolicyDocument(model, r, `inline_policy.${i}.policy`)]);
  }
  return [["policy", readPolicyDocument(model, r, "policy")]];
}

function eachAllow(
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
  title: "Data-plane actions (dynamodb, dax, secretsmanager, kms, elasticache) name their resources",
  severity: "error",
  resourceTypes: POLICY_TYPES,
  rationale:
    "Resource \"*\" on a data-plane action reaches every table, cluster, secret or key in the account, not just the " +
    "one the function was wired to.",
  remediation: "Replace \"*\" with the ARNs of the tables, clusters, secrets or keys used (plus /index/* for table indexes).",
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

export const IAM_RULES: readonly PolicyRule[] = [IAM_NO_STAR_ACTION, IAM_SCOPED_RESOURCES, IAM_NO_BROAD_MANAGED_POLICIES];
