import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { Construct } from "constructs";
import { PropsValidationError } from "../../modules/core/validation";
import { DaxCluster, DaxClusterProps } from "../../modules/dax";
import { CacheAsideFunction } from "../../modules/function";
import { Network } from "../../modules/network";
import { onlyResource, resourcesOf, rolePolicies, synthJson, testStack } from "../helpers/synth";
import { SESSIONS } from "../../modules";

const SESSIONS_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Sessions";
const AZS3 = ["us-east-1a", "us-east-1b", "us-east-1c"];
const AZS2 = ["us-east-1a", "us-east-1b"];

type Overrides = Partial<Omit<DaxClusterProps, "network">>;

function build(scope: Construct, overrides: Overrides = {}, azs: string[] = AZS3): { network: Network; dax: DaxCluster } {
  const network = new Network(scope, "network", { availabilityZones: azs });
  const dax = new DaxCluster(scope, "dax", { network, tables: [{ tableArn: SESSIONS_ARN }], ...overrides });
  return { network, dax };
}

function daxRole(json: ReturnType<typeof synthJson>): any {
  const roles = resourcesOf(json, "aws_iam_role").map(([, r]) => r);
  const found = roles.filter((r) => JSON.parse(r.assume_role_policy).Statement[0].Principal.Service === "dax.amazonaws.com");
  expect(found).toHaveLength(1);
  return found[0];
}

/** The PropsValidationError thrown by `fn`. */
function validationError(fn: () => void): PropsValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PropsValidationError);
    return e as PropsValidationError;
  }
  throw new Error("expected a PropsValidationError");
}

function expectInvalid(overrides: Overrides, field: string, valueText: string): PropsValidationError {
  const { stack } = testStack("prod");
  const err = validationError(() => build(stack, overrides));
  expect(err.message).toContain("test/dax");
  expect(err.message).toContain(field);
  expect(err.message).toContain(valueText);
  return err;
}

describe("DaxCluster", () => {
  describe("encryption", () => {
    test("GIVEN defaults WHEN synthesized THEN encryption at rest is on and the endpoint is TLS", () => {
      const json = synthJson((s) => build(s));
      const cluster = onlyResource(json, "aws_dax_cluster");
      expect(cluster.server_side_encryption).toEqual({ enabled: true });
      expect(cluster.cluster_endpoint_encryption_type).toBe("TLS");
    });

    test("GIVEN the dev profile WHEN synthesized THEN encryption and TLS are still on", () => {
      const json = synthJson((s) => build(s), "dev");
      const cluster = onlyResource(json, "aws_dax_cluster");
      expect(cluster.server_side_encryption).toEqual({ enabled: true });
      expect(cluster.cluster_endpoint_encryption_type).toBe("TLS");
    });
  });

  describe("sizing and placement", () => {
    test("GIVEN prod and a 3-AZ network WHEN synthesized THEN 3 r5 nodes, one in each AZ", () => {
      const json = synthJson((s) => build(s), "prod");
      const cluster = onlyResource(json, "aws_dax_cluster");
      expect(cluster.replication_factor).toBe(3);
      expect(cluster.node_type).toBe("dax.r5.large");
      expect(cluster.availability_zones).toEqual(AZS3);
    });

    test("GIVEN prod and a 2-AZ network WHEN synthesized THEN 3 nodes with placement left to DAX (a repeated AZ would collapse in the provider's set)", () => {
      const json = synthJson((s) => build(s, {}, AZS2), "prod");
      const cluster = onlyResource(json, "aws_dax_cluster");
      expect(cluster.replication_factor).toBe(3);
      expect(cluster.availability_zones).toBeUndefined();
      // the subnet group spans both AZs, so DAX spreads the nodes over them
      expect(onlyResource(json, "aws_dax_subnet_group").subnet_ids).toHaveLength(2);
    });

    test("GIVEN replicationFactor 2 on a 2-AZ network WHEN synthesized THEN one node in each AZ", () => {
      const json = synthJson((s) => build(s, { replicationFactor: 2 }, AZS2), "prod");
      expect(onlyResource(json, "aws_dax_cluster").availability_zones).toEqual(AZS2);
    });

    test("GIVEN dev WHEN synthesized THEN a single t3.small node with no pinned AZs", () => {
      const json = synthJson((s) => build(s), "dev");
      const cluster = onlyResource(json, "aws_dax_cluster");
      expect(cluster.replication_factor).toBe(1);
      expect(cluster.node_type).toBe("dax.t3.small");
      expect(cluster.availability_zones).toBeUndefined();
    });

    test("GIVEN defaults WHEN synthesized THEN the subnet group covers every private subnet and the cluster uses it", () => {
      const json = synthJson((s) => build(s));
      const sg = onlyResource(json, "aws_dax_subnet_group");
      expect(sg.subnet_ids).toHaveLength(3);
      for (const id of sg.subnet_ids) expect(id).toMatch(/aws_subnet\.network_private-\d/);
      const cluster = onlyResource(json, "aws_dax_cluster");
      expect(cluster.subnet_group_name).toMatch(/aws_dax_subnet_group\..*\.name/);
      expect(cluster.maintenance_window).toBe("sun:05:00-sun:06:00");
    });

    test("GIVEN default name WHEN synthesized THEN it is a valid ≤ 20-character DAX name", () => {
      const json = synthJson((s) => build(s));
      const name = onlyResource(json, "aws_dax_cluster").cluster_name;
      expect(name.length).toBeLessThanOrEqual(20);
      expect(name).toMatch(/^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/);
    });
  });

  describe("parameter group", () => {
    test("GIVEN defaults WHEN synthesized THEN items stay 5 minutes, query results 1 minute (never invalidated, so kept short)", () => {
      const json = synthJson((s) => build(s));
      const pg = onlyResource(json, "aws_dax_parameter_group");
      expect(pg.parameters).toEqual(
        expect.arrayContaining([
          { name: "record-ttl-millis", value: "300000" },
          { name: "query-ttl-millis", value: "60000" },
        ]),
      );
    });

    test("GIVEN TTL props WHEN synthesized THEN the parameter group carries them and the cluster uses it", () => {
      const json = synthJson((s) => build(s, { recordTtlMillis: 60000, queryTtlMillis: 0 }));
      const pg = onlyResource(json, "aws_dax_parameter_group");
      expect(pg.parameters).toHaveLength(2);
      expect(pg.parameters).toEqual(
        expect.arrayContaining([
          { name: "record-ttl-millis", value: "60000" },
          { name: "query-ttl-millis", value: "0" },
        ]),
      );
      expect(onlyResource(json, "aws_dax_cluster").parameter_group_name).toMatch(/aws_dax_parameter_group\..*\.name/);
    });
  });

  describe("service role", () => {
    test("GIVEN a cluster WHEN synthesized THEN only dax.amazonaws.com may assume its role", () => {
      const json = synthJson((s) => build(s));
      const role = daxRole(json);
      const trust = JSON.parse(role.assume_role_policy);
      expect(trust.Statement).toHaveLength(1);
      expect(trust.Statement[0].Principal).toEqual({ Service: "dax.amazonaws.com" });
      expect(trust.Statement[0].Action).toBe("sts:AssumeRole");
      expect(onlyResource(json, "aws_dax_cluster").iam_role_arn).toMatch(/aws_iam_role\..*\.arn/);
    });

    test("GIVEN two tables WHEN synthesized THEN the role policy names exactly those tables and their indexes, never *", () => {
      let tableArn = "";
      const json = synthJson((s) => {
        const table = new DynamodbTable(s, "products", {
          name: "Products",
          billingMode: "PAY_PER_REQUEST",
          hashKey: "pk",
          attribute: [{ name: "pk", type: "S" }],
        });
        tableArn = table.arn;
        build(s, { tables: [{ tableArn: SESSIONS_ARN }, { tableArn: table.arn }] });
      });
      const policies = rolePolicies(json).filter((p) => p.name === "dynamodb-tables");
      expect(policies).toHaveLength(1);
      const statements = policies[0].doc.Statement;
      expect(statements).toHaveLength(1);
      const s = statements[0];
      expect(s.Effect).toBe("Allow");
      expect([...s.Action].sort()).toEqual(
        [
          "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PutItem",
          "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
          "dynamodb:DescribeTable",
        ].sort(),
      );
      expect(s.Resource).toHaveLength(4);
      expect(s.Resource).toEqual(expect.arrayContaining([SESSIONS_ARN, `${SESSIONS_ARN}/index/*`]));
      const productsRefs = s.Resource.filter((r: string) => r.includes("aws_dynamodb_table.products.arn"));
      expect(productsRefs).toHaveLength(2);
      expect(productsRefs.some((r: string) => r.endsWith("/index/*"))).toBe(true);
      expect(tableArn).not.toBe("");
      for (const r of s.Resource) expect(r).not.toBe("*");
    });

    test("GIVEN a cluster WHEN synthesized THEN no policy in the stack grants dynamodb or dax actions on *", () => {
      const json = synthJson((s) => {
        const { network, dax } = build(s);
        const fn = new CacheAsideFunction(s, "fn", { network, contract: SESSIONS });
        dax.grantAccess(fn);
      });
      for (const p of rolePolicies(json)) {
        for (const st of p.doc.Statement) {
          const scoped = st.Action.some((a: string) => a.startsWith("dynamodb:") || a.startsWith("dax:"));
          if (scoped) expect(st.Resource).not.toContain("*");
        }
      }
    });
  });

  describe("wiring", () => {
    test("GIVEN an unwired cluster WHEN synthesized THEN its security group has no rules", () => {
      const json = synthJson((s) => build(s));
      expect(resourcesOf(json, "aws_vpc_security_group_ingress_rule")).toHaveLength(0);
      const cluster = onlyResource(json, "aws_dax_cluster");
      expect(cluster.security_group_ids).toHaveLength(1);
      expect(cluster.security_group_ids[0]).toMatch(/aws_security_group\.dax_sg_group_.*\.id/);
    });

    test("GIVEN grantAccess(fn) WHEN synthesized THEN fn's role gets dax data-plane actions on this cluster's ARN only", () => {
      const json = synthJson((s) => {
        const { network, dax } = build(s);
        const fn = new CacheAsideFunction(s, "fn", { network, contract: SESSIONS });
        dax.grantAccess(fn);
        dax.grantAccess(fn); // idempotent
      });
      const daxPolicies = rolePolicies(json).filter((p) => p.name.startsWith("dax-"));
      expect(daxPolicies).toHaveLength(1);
      const [st] = daxPolicies[0].doc.Statement;
      expect(daxPolicies[0].doc.Statement).toHaveLength(1);
      expect([...st.Action].sort()).toEqual(
        [
          "dax:GetItem", "dax:BatchGetItem", "dax:Query", "dax:Scan", "dax:PutItem", "dax:UpdateItem",
          "dax:DeleteItem", "dax:BatchWriteItem", "dax:ConditionCheckItem",
        ].sort(),
      );
      expect(st.Resource).toHaveLength(1);
      expect(st.Resource[0]).toMatch(/^\$\{aws_dax_cluster\.dax_cluster_[A-Z0-9]+\.arn\}$/);
      // attached to the function's role, not the DAX service role
      const fnRole = resourcesOf(json, "aws_iam_role").find(([, r]) =>
        JSON.parse(r.assume_role_policy).Statement[0].Principal.Service === "lambda.amazonaws.com")!;
      const attached = resourcesOf(json, "aws_iam_role_policy").find(([, r]) => r.name === daxPolicies[0].name)![1];
      expect(attached.role).toContain(`aws_iam_role.${fnRole[0]}.id`);
    });

    test("GIVEN allowFrom(fn) WHEN synthesized THEN ingress on 9111 from fn's SG only, and the matching egress on fn", () => {
      const json = synthJson((s) => {
        const { network, dax } = build(s);
        const fn = new CacheAsideFunction(s, "fn", { network, contract: SESSIONS });
        dax.allowFrom(fn);
      });
      const ingress = resourcesOf(json, "aws_vpc_security_group_ingress_rule").map(([, r]) => r);
      expect(ingress).toHaveLength(1);
      expect(ingress[0]).toMatchObject({ ip_protocol: "tcp", from_port: 9111, to_port: 9111 });
      expect(ingress[0].security_group_id).toMatch(/aws_security_group\.dax_sg_group_.*\.id/);
      expect(ingress[0].referenced_security_group_id).toMatch(/aws_security_group\.fn_sg_group_.*\.id/);
      expect(ingress[0].cidr_ipv4).toBeUndefined();
      const egress = resourcesOf(json, "aws_vpc_security_group_egress_rule").map(([, r]) => r);
      const toDax = egress.filter((r) => r.from_port === 9111);
      expect(toDax).toHaveLength(1);
      expect(toDax[0].security_group_id).toMatch(/aws_security_group\.fn_sg_group_.*\.id/);
      expect(toDax[0].referenced_security_group_id).toMatch(/aws_security_group\.dax_sg_group_.*\.id/);
    });

    test("GIVEN fn.useDax(dax) WHEN synthesized THEN DAX_ENDPOINT is the TLS discovery endpoint built from the cluster address and port", () => {
      const json = synthJson((s) => {
        const { network, dax } = build(s);
        const fn = new CacheAsideFunction(s, "fn", { network, contract: SESSIONS });
        fn.useDax(dax);
        expect(dax.port).toBe(9111);
      });
      const fn = onlyResource(json, "aws_lambda_function");
      expect(fn.environment.variables.DAX_ENDPOINT).toMatch(
        /^daxs:\/\/\$\{aws_dax_cluster\.dax_cluster_[A-Z0-9]+\.cluster_address\}:\$\{aws_dax_cluster\.dax_cluster_[A-Z0-9]+\.port\}$/,
      );
    });
  });

  describe("validation", () => {
    test("GIVEN a 21-character cluster name WHEN constructed THEN it fails naming clusterName", () => {
      expectInvalid({ clusterName: "a".repeat(21) }, "clusterName", `"${"a".repeat(21)}"`);
    });

    test("GIVEN a cluster name with bad characters WHEN constructed THEN it fails naming clusterName", () => {
      expectInvalid({ clusterName: "Sessions_Dax" }, "clusterName", "\"Sessions_Dax\"");
    });

    test("GIVEN a cluster name with consecutive hyphens WHEN constructed THEN it fails naming clusterName", () => {
      expectInvalid({ clusterName: "sessions--dax" }, "clusterName", "\"sessions--dax\"");
    });

    test("GIVEN an ElastiCache node type WHEN constructed THEN it fails saying it is not a DAX node type", () => {
      const err = expectInvalid({ nodeType: "cache.t4g.micro" }, "nodeType", "\"cache.t4g.micro\"");
      expect(err.message).toContain("not a DAX node type");
    });

    test("GIVEN replicationFactor 0 WHEN constructed THEN it fails naming the allowed range", () => {
      const err = expectInvalid({ replicationFactor: 0 }, "replicationFactor", "= 0");
      expect(err.message).toContain("from 1 to 10");
    });

    test("GIVEN replicationFactor 11 WHEN constructed THEN it fails naming the allowed range", () => {
      const err = expectInvalid({ replicationFactor: 11 }, "replicationFactor", "= 11");
      expect(err.message).toContain("from 1 to 10");
    });

    test("GIVEN a negative record TTL WHEN constructed THEN it fails", () => {
      expectInvalid({ recordTtlMillis: -1 }, "recordTtlMillis", "= -1");
    });

    test("GIVEN a non-integer query TTL WHEN constructed THEN it fails", () => {
      expectInvalid({ queryTtlMillis: 1.5 }, "queryTtlMillis", "= 1.5");
    });

    test("GIVEN a query TTL over 30 days WHEN constructed THEN it fails", () => {
      const err = expectInvalid({ queryTtlMillis: 2592000001 }, "queryTtlMillis", "= 2592000001");
      expect(err.message).toContain("2592000000");
    });

    test("GIVEN a malformed maintenance window WHEN constructed THEN it fails", () => {
      expectInvalid({ maintenanceWindow: "sunday 05:00" }, "maintenanceWindow", "\"sunday 05:00\"");
    });

    test("GIVEN an empty tables list WHEN constructed THEN it fails", () => {
      expectInvalid({ tables: [] }, "tables", "= []");
    });

    test("GIVEN a table ARN that is not a DynamoDB table WHEN constructed THEN it fails", () => {
      const bad = "arn:aws:s3:::bucket";
      expectInvalid({ tables: [{ tableArn: bad }] }, "tables[0].tableArn", `"${bad}"`);
    });

    test("GIVEN several bad props WHEN constructed THEN every problem is reported at once", () => {
      const { stack } = testStack("prod");
      const err = validationError(() => build(stack, { replicationFactor: 0, nodeType: "cache.t4g.micro", recordTtlMillis: -5 }));
      expect(err.problems.map((p) => p.field).sort()).toEqual(["nodeType", "recordTtlMillis", "replicationFactor"]);
    });
  });
});
