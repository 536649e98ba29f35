import { Construct } from "constructs";
import { PolicyStatement, Role, ScopedServices } from "../../modules/iam";
import { SCOPED_SERVICES } from "../../modules/policy";
import { onlyResource, resourcesOf, rolePolicies, synthJson, testStack } from "../helpers/synth";

const TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Products";

function role(scope: Construct, assumedBy = "lambda.amazonaws.com"): Role {
  return new Role(scope, "role", { assumedBy, description: "test role" });
}

/** The error thrown when `statements` are added to a fresh role under `name`. */
function refusal(name: string, statements: PolicyStatement[]): Error {
  const { stack } = testStack();
  const r = role(stack);
  try {
    r.addToPrincipalPolicy(name, statements);
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the policy to be refused");
}

describe("Role trust policy", () => {
  test("is trusted by exactly one service principal, with sts:AssumeRole only", () => {
    // GIVEN a role for Lambda / WHEN synthesized
    const json = synthJson((stack) => { role(stack); });
    const r = onlyResource(json, "aws_iam_role");
    // THEN
    const trust = JSON.parse(r.assume_role_policy);
    expect(trust.Version).toBe("2012-10-17");
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0]).toEqual({ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" });
    expect(r.description).toBe("test role");
    expect(r.name.length).toBeLessThanOrEqual(64);
  });

  test("has no managed policy attachments and no inline policies until granted", () => {
    const json = synthJson((stack) => { role(stack); });
    expect(resourcesOf(json, "aws_iam_role_policy_attachment")).toHaveLength(0);
    expect(resourcesOf(json, "aws_iam_role_policy")).toHaveLength(0);
    expect(onlyResource(json, "aws_iam_role").managed_policy_arns).toBeUndefined();
  });

  test("roleName overrides the derived name", () => {
    const json = synthJson((stack) => { new Role(stack, "r", { assumedBy: "dax.amazonaws.com", description: "d", roleName: "my-role" }); });
    expect(onlyResource(json, "aws_iam_role").name).toBe("my-role");
  });
});

describe("Role inline policies", () => {
  test("each grant is one named inline policy on the role, with the statements as given", () => {
    const json = synthJson((stack) => {
      role(stack).addToPrincipalPolicy("read-products", [
        { actions: ["dynamodb:GetItem"], resources: [TABLE_ARN], conditions: { Bool: { "aws:SecureTransport": "true" } } },
      ]);
    });
    const [roleId] = resourcesOf(json, "aws_iam_role")[0];
    const policy = onlyResource(json, "aws_iam_role_policy");
    expect(policy.name).toBe("read-products");
    expect(policy.role).toBe(`\${aws_iam_role.${roleId}.id}`);
    const [{ doc }] = rolePolicies(json);
    expect(doc.Version).toBe("2012-10-17");
    expect(doc.Statement).toEqual([
      { Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: [TABLE_ARN], Condition: { Bool: { "aws:SecureTransport": "true" } } },
    ]);
  });

  test("addToPrincipalPolicy is idempotent per name", () => {
    // GIVEN the same policy name added twice / WHEN synthesized / THEN one policy, the first one
    const { stack } = testStack();
    const r = role(stack);
    r.addToPrincipalPolicy("read", [{ actions: ["dynamodb:GetItem"], resources: [TABLE_ARN] }]);
    r.addToPrincipalPolicy("read", [{ actions: ["dynamodb:GetItem"], resources: [TABLE_ARN] }]);
    r.addToPrincipalPolicy("other", [{ actions: ["dynamodb:Query"], resources: [TABLE_ARN] }]);
    expect(r.policyNames).toEqual(["read", "other"]);
    expect(r.policyResource("read")).toBeDefined();
    expect(r.policyResource("missing")).toBeUndefined();
    const json = synthJson((s) => {
      const r2 = role(s);
      r2.addToPrincipalPolicy("read", [{ actions: ["dynamodb:GetItem"], resources: [TABLE_ARN] }]);
      r2.addToPrincipalPolicy("read", [{ actions: ["dynamodb:GetItem"], resources: [TABLE_ARN] }]);
    });
    expect(resourcesOf(json, "aws_iam_role_policy")).toHaveLength(1);
  });

  test("the role is its own grant principal", () => {
    const { stack } = testStack();
    const r = role(stack);
    expect(r.grantPrincipal).toBe(r);
  });

  test("\"*\" resources are allowed for services without resource-level permissions", () => {
    const json = synthJson((stack) => {
      role(stack).addToPrincipalPolicy("xray", [{ actions: ["xray:PutTraceSegments"], resources: ["*"] }]);
    });
    expect(rolePolicies(json)[0].doc.Statement[0].Resource).toEqual(["*"]);
  });
});

describe("Role scoping rules", () => {
  test.each(["dynamodb:GetItem", "dax:GetItem", "secretsmanager:GetSecretValue", "kms:Decrypt", "elasticache:Connect"])(
    "refuses %s on resource \"*\", naming the construct path and the policy",
    (action) => {
      const err = refusal("too-broad", [{ actions: ["logs:PutLogEvents", action], resources: ["*"] }]);
      expect(err.message).toContain("test/role");
      expect(err.message).toContain('"too-broad"');
      expect(err.message).toContain(action);
      expect(err.message).toContain('"*"');
    },
  );

  test("refuses scoped-service actions on \"*\" even when another resource is listed too", () => {
    const err = refusal("mixed", [{ actions: ["dynamodb:Query"], resources: [TABLE_ARN, "*"] }]);
    expect(err.message).toContain("dynamodb:Query");
  });

  test("refuses scoped-service actions on \"*\" whatever the case of the service prefix (IAM ignores it)", () => {
    const err = refusal("upper", [{ actions: ["DynamoDB:GetItem"], resources: ["*"] }]);
    expect(err.message).toContain("test/role");
    expect(err.message).toContain('"upper"');
    expect(err.message).toContain("DynamoDB:GetItem");
  });

  test("refuses action \"*\" on any resource", () => {
    const err = refusal("admin", [{ actions: ["*"], resources: [TABLE_ARN] }]);
    expect(err.message).toContain("test/role");
    expect(err.message).toContain('"admin"');
    expect(err.message).toContain('action "*"');
  });

  test("a refused policy creates no resource", () => {
    const { stack } = testStack();
    const r = role(stack);
    expect(() => r.addToPrincipalPolicy("bad", [{ actions: ["dax:*"], resources: ["*"] }])).toThrow();
    expect(r.policyNames).toEqual([]);
  });

  test("the scoped service list covers the data planes this module set touches, and is the policy pack's", () => {
    expect([...ScopedServices].sort()).toEqual(["dax", "dynamodb", "elasticache", "kms", "s3", "secretsmanager"]);
    expect(ScopedServices).toBe(SCOPED_SERVICES);
  });
});
