import { createHash } from "crypto";
import { readFileSync } from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { PropsValidationError } from "../../modules/core/validation";
import { packageRoot } from "../../modules/core/project-root";
import { DaxCluster } from "../../modules/dax";
import { CacheAsideFunction, CacheAsideFunctionProps, NodeRuntime } from "../../modules/function";
import type * as BundleModule from "../../modules/function/bundle";
import { Network, NetworkProps } from "../../modules/network";
import { CacheAuth, RedisCache } from "../../modules/redis";
import { CacheTable } from "../../modules/table";
import { PRODUCTS, SESSIONS, SESSIONS_TABLE } from "../../modules";
import { ConfigError, loadRuntimeConfig } from "../../functions/lib/config";
import { readSettings } from "../../functions/lib/contract";
import { Testing } from "cdktf";
import { READ_DATA_ACTIONS, WRITE_DATA_ACTIONS } from "../../modules/table/perms";
import { onlyResource, resourcesOf, rolePolicies, synthJson, SynthJson, testStack } from "../helpers/synth";

const ENTRY = PRODUCTS.entry;
const AZS = ["us-east-1a", "us-east-1b"];
const TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Sessions";

type Overrides = Partial<Omit<CacheAsideFunctionProps, "network">>;

interface Built {
  network: Network;
  fn: CacheAsideFunction;
}

function build(scope: Construct, overrides: Overrides = {}, networkProps: Partial<NetworkProps> = {}): Built {
  const network = new Network(scope, "network", { availabilityZones: AZS, ...networkProps });
  const fn = new CacheAsideFunction(scope, "fn", { network, contract: PRODUCTS, ...overrides });
  return { network, fn };
}

/** GIVEN a function built with `overrides` and wired by `wire`, WHEN synthesized, THEN this JSON. */
function synthFn(
  overrides: Overrides = {},
  wire?: (b: Built, scope: Construct) => void,
  profile: "dev" | "prod" = "prod",
  networkProps: Partial<NetworkProps> = {},
): SynthJson {
  return synthJson((stack) => {
    const b = build(stack, overrides, networkProps);
    wire?.(b, stack);
  }, profile);
}

function lambda(json: SynthJson): any {
  return onlyResource(json, "aws_lambda_function");
}

function ref(json: SynthJson, type: string, idPrefix: string, attr = "id"): string {
  const found = resourcesOf(json, type).filter(([id]) => id.startsWith(idPrefix));
  expect(found).toHaveLength(1);
  return `\${${type}.${found[0][0]}.${attr}}`;
}

function fnPolicy(json: SynthJson, name: string | RegExp): any {
  const found = rolePolicies(json).filter((p) => (typeof name === "string" ? p.name === name : name.test(p.name)));
  expect(found).toHaveLength(1);
  return found[0].doc;
}

function rules(json: SynthJson, type: "ingress" | "egress"): any[] {
  return resourcesOf(json, `aws_vpc_security_group_${type}_rule`).map(([, r]) => r);
}

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
  expect(err.message).toContain("test/fn");
  expect(err.message).toContain(field);
  expect(err.message).toContain(valueText);
  expect(err.problems.map((p) => p.field)).toContain(field);
  return err;
}

describe("CacheAsideFunction defaults", () => {
  test("nodejs22.x on arm64 with active tracing, a 10 s timeout and 512 MB in prod", () => {
    // GIVEN a function with default props / WHEN synthesized
    const f = lambda(synthFn());
    // THEN
    expect(f.runtime).toBe("nodejs22.x");
    expect(f.architectures).toEqual(["arm64"]);
    expect(f.tracing_config).toEqual({ mode: "Active" });
    expect(f.timeout).toBe(10);
    expect(f.memory_size).toBe(512);
    expect(f.handler).toBe("index.handler");
    expect(f.function_name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  test("256 MB in dev", () => {
    expect(lambda(synthFn({}, undefined, "dev")).memory_size).toBe(256);
  });

  test("reserved concurrency only when set", () => {
    expect(lambda(synthFn()).reserved_concurrent_executions).toBeUndefined();
    expect(lambda(synthFn({ reservedConcurrency: 20 })).reserved_concurrent_executions).toBe(20);
  });

  test("runs in every private subnet with its own security group, which has no rules until wired", () => {
    const json = synthFn();
    const f = lambda(json);
    const subnetRefs = resourcesOf(json, "aws_subnet").map(([id]) => `\${aws_subnet.${id}.id}`);
    expect([...f.vpc_config.subnet_ids].sort()).toEqual(subnetRefs.sort());
    expect(f.vpc_config.security_group_ids).toEqual([ref(json, "aws_security_group", "fn_")]);
    expect(rules(json, "ingress")).toHaveLength(0);
    expect(rules(json, "egress")).toHaveLength(0);
  });

  test("logs to /aws/lambda/<name> with a retention, created before the function", () => {
    const json = synthFn();
    const f = lambda(json);
    const lgs = resourcesOf(json, "aws_cloudwatch_log_group").filter(([id]) => id.startsWith("fn_"));
    expect(lgs).toHaveLength(1);
    const [lgId, lg] = lgs[0];
    expect(lg.name).toBe(`/aws/lambda/${f.function_name}`);
    expect(lg.retention_in_days).toBe(90);
    expect(f.logging_config.log_group).toBe(`\${aws_cloudwatch_log_group.${lgId}.name}`);
    expect(f.depends_on).toContain(`aws_cloudwatch_log_group.${lgId}`);
  });

  test("keeps logs 14 days in dev, or as configured", () => {
    const dev = synthFn({}, undefined, "dev");
    expect(resourcesOf(dev, "aws_cloudwatch_log_group").find(([id]) => id.startsWith("fn_"))![1].retention_in_days).toBe(14);
    const custom = synthFn({ logRetentionDays: 30 });
    expect(resourcesOf(custom, "aws_cloudwatch_log_group").find(([id]) => id.startsWith("fn_"))![1].retention_in_days).toBe(30);
  });

  test("the role is trusted by lambda.amazonaws.com only", () => {
    const json = synthFn();
    const f = lambda(json);
    const [roleId, role] = resourcesOf(json, "aws_iam_role").find(([id]) => id.startsWith("fn_"))!;
    expect(f.role).toBe(`\${aws_iam_role.${roleId}.arn}`);
    const trust = JSON.parse(role.assume_role_policy);
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0].Principal).toEqual({ Service: "lambda.amazonaws.com" });
  });

  test("inline policies: logs scoped to its log group, VPC access and X-Ray, nothing else", () => {
    const json = synthFn();
    const fnPolicies = resourcesOf(json, "aws_iam_role_policy").filter(([id]) => id.startsWith("fn_")).map(([, p]) => p.name);
    expect(fnPolicies.sort()).toEqual(["vpc-access", "write-logs", "xray-tracing"]);
    const lgArn = ref(json, "aws_cloudwatch_log_group", "fn_", "arn");
    expect(fnPolicy(json, "write-logs").Statement).toEqual([
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${lgArn}:*`] },
    ]);
    const vpc = fnPolicy(json, "vpc-access").Statement;
    expect(vpc).toHaveLength(1);
    for (const a of vpc[0].Action) expect(a).toMatch(/^ec2:/);
    expect(vpc[0].Action).toEqual(expect.arrayContaining(["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"]));
    const xray = fnPolicy(json, "xray-tracing").Statement;
    expect(xray).toHaveLength(1);
    for (const a of xray[0].Action) expect(a).toMatch(/^xray:/);
    expect(lambda(json).depends_on).toContain(`aws_iam_role_policy.${resourcesOf(json, "aws_iam_role_policy").find(([, p]) => p.name === "vpc-access")![0]}`);
  });

  test("source maps on: NODE_OPTIONS=--enable-source-maps and a map shipped", () => {
    const { stack } = testStack();
    const { fn } = build(stack);
    expect(fn.environment.NODE_OPTIONS).toBe("--enable-source-maps");
    const json = synthFn();
    expect(lambda(json).environment.variables.NODE_OPTIONS).toBe("--enable-source-maps");
  });

  test("sourceMap false: no NODE_OPTIONS", () => {
    const f = lambda(synthFn({ sourceMap: false }));
    expect(f.environment.variables.NODE_OPTIONS).toBeUndefined();
  });

  test("explicit props are passed through", () => {
    const f = lambda(synthFn({
      functionName: "my_fn-1", runtime: "nodejs22.x", architecture: "x86_64", memorySize: 1024, timeoutSeconds: 20,
      handlerExport: "main", environment: { STAGE: "test" },
    }));
    expect(f).toMatchObject({ function_name: "my_fn-1", runtime: "nodejs22.x", architectures: ["x86_64"], memory_size: 1024, timeout: 20, handler: "index.main" });
    expect(f.environment.variables.STAGE).toBe("test");
  });
});

describe("CacheAsideFunction bundle", () => {
  test("filename is a relative assets/ path and source_code_hash is the base64 SHA-256 of the zip on disk", () => {
    // GIVEN a function / WHEN synthesized
    const { stack } = testStack();
    const { fn } = build(stack);
    const json = synthJson((s) => { build(s); });
    const f = lambda(json);
    // THEN
    expect(path.isAbsolute(f.filename)).toBe(false);
    expect(f.filename).toMatch(/^assets\/.+\.zip$/);
    const bytes = readFileSync(fn.bundle.zipPath);
    expect(bytes.length).toBe(fn.bundle.zipBytes);
    expect(f.source_code_hash).toBe(createHash("sha256").update(bytes).digest("base64"));
    expect(fn.bundle.sha256Hex).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(fn.bundle.zipPath.startsWith(packageRoot())).toBe(false);
  });

  test("the zip holds index.js (with the handler export) and its source map", () => {
    const { stack } = testStack();
    const { fn } = build(stack);
    const zip = readFileSync(fn.bundle.zipPath);
    // central directory names
    const names: string[] = [];
    const eocd = zip.length - 22;
    let p = zip.readUInt32LE(eocd + 16);
    for (let i = 0; i < zip.readUInt16LE(eocd + 10); i++) {
      const n = zip.readUInt16LE(p + 28);
      names.push(zip.subarray(p + 46, p + 46 + n).toString("utf8"));
      p += 46 + n + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
    }
    expect(names).toEqual(["index.js", "index.js.map"]);
  });

  test("bundling is deterministic: two fresh bundles of the same entry are byte-identical", () => {
    const opts = { entry: path.join(packageRoot(), ENTRY), target: "node22", externals: ["@aws-sdk/*"], sourceMap: true };
    const once = (): { hex: string; bytes: Buffer } => {
      let out: { hex: string; bytes: Buffer } | undefined;
      // A fresh module instance each time, so the per-process cache cannot hand back the first result.
      jest.isolateModules(() => {
        const { bundleHandler } = require("../../modules/function/bundle") as typeof BundleModule;
        const b = bundleHandler(opts);
        out = { hex: b.sha256Hex, bytes: readFileSync(b.zipPath) };
      });
      return out!;
    };
    const a = once();
    const b = once();
    expect(b.hex).toBe(a.hex);
    expect(b.bytes.equals(a.bytes)).toBe(true);
  });

  test("two functions with the same entry share one bundle hash", () => {
    const json = synthJson((stack) => {
      const network = new Network(stack, "network", { availabilityZones: AZS });
      new CacheAsideFunction(stack, "a", { network, contract: PRODUCTS });
      new CacheAsideFunction(stack, "b", { network, contract: PRODUCTS });
    });
    const hashes = resourcesOf(json, "aws_lambda_function").map(([, f]) => f.source_code_hash);
    expect(hashes).toHaveLength(2);
    expect(hashes[0]).toBe(hashes[1]);
  });
});

describe("CacheAsideFunction.useTable", () => {
  test("sets TABLE_NAME, opens HTTPS egress to the DynamoDB prefix list only and grants read", () => {
    // GIVEN a function and a table / WHEN wired
    const json = synthFn({}, ({ fn }, scope) => {
      fn.useTable(new CacheTable(scope, "products", { partitionKey: { name: "productId", type: "S" } }));
    });
    // THEN
    const f = lambda(json);
    expect(f.environment.variables.TABLE_NAME).toBe(ref(json, "aws_dynamodb_table", "products_", "name"));
    const egress = rules(json, "egress");
    expect(egress).toHaveLength(1);
    expect(egress[0]).toMatchObject({
      security_group_id: ref(json, "aws_security_group", "fn_"),
      prefix_list_id: ref(json, "aws_vpc_endpoint", "network_dynamodb", "prefix_list_id"),
      ip_protocol: "tcp",
      from_port: 443,
      to_port: 443,
    });
    expect(egress[0].cidr_ipv4).toBeUndefined();
    const tableArn = ref(json, "aws_dynamodb_table", "products_", "arn");
    expect(fnPolicy(json, /^table-test-products-[0-9a-f]{6}-read$/).Statement).toEqual([
      { Effect: "Allow", Action: [...READ_DATA_ACTIONS], Resource: [tableArn, `${tableArn}/index/*`] },
    ]);
  });

  test("write: true grants read-write, and envVar names the variable", () => {
    const json = synthFn({}, ({ fn }, scope) => {
      fn.useTable(new CacheTable(scope, "products", { partitionKey: { name: "productId", type: "S" } }), { write: true, envVar: "PRODUCTS_TABLE" });
    });
    expect(lambda(json).environment.variables.PRODUCTS_TABLE).toBeDefined();
    expect(lambda(json).environment.variables.TABLE_NAME).toBeUndefined();
    expect(fnPolicy(json, /^table-test-products-[0-9a-f]{6}-read-write$/).Statement[0].Action).toEqual([...READ_DATA_ACTIONS, ...WRITE_DATA_ACTIONS]);
  });

  test("two tables share one DynamoDB egress rule", () => {
    const json = synthFn({}, ({ fn }, scope) => {
      fn.useTable(new CacheTable(scope, "products", { partitionKey: { name: "productId", type: "S" } }));
      fn.useTable(new CacheTable(scope, "sessions", { partitionKey: { name: "sessionId", type: "S" } }), { envVar: "SESSIONS_TABLE" });
    });
    expect(rules(json, "egress")).toHaveLength(1);
    expect(rolePolicies(json).filter((p) => p.name.startsWith("table-"))).toHaveLength(2);
  });
});

describe("CacheAsideFunction.useCache", () => {
  // Token auth: the shared AUTH token's secret (IAM and passwords: tests/modules/cache-auth.test.ts).
  function withCache(networkProps: Partial<NetworkProps> = {}): SynthJson {
    return synthFn({}, ({ fn, network }, scope) => {
      fn.useCache(new RedisCache(scope, "cache", { network, auth: CacheAuth.token() }));
    }, "prod", networkProps);
  }

  test("token auth: sets the REDIS_* endpoint variables and the secret's ARN, never the token", () => {
    const json = withCache();
    const env = lambda(json).environment.variables;
    expect(env.REDIS_HOST).toMatch(/^\$\{aws_elasticache_replication_group\.[^}]+\.primary_endpoint_address\}$/);
    expect(env.REDIS_PORT).toBe("6379");
    expect(env.REDIS_TLS).toBe("true");
    expect(env.REDIS_CLUSTER_MODE).toBe("false");
    expect(env.REDIS_AUTH_SECRET_ARN).toBe(ref(json, "aws_secretsmanager_secret", "cache_", "arn"));
    for (const [k, v] of Object.entries<string>(env)) {
      expect(k).not.toMatch(/TOKEN|PASSWORD/i);
      expect(v).not.toMatch(/secret_string|random_password|auth_token|\.result\b/);
    }
  });

  test("grants read of that one secret", () => {
    const json = withCache();
    const p = rolePolicies(json).find((x) => x.name.startsWith("read-auth-"))!;
    expect(p.doc.Statement[0].Resource).toEqual([ref(json, "aws_secretsmanager_secret", "cache_", "arn")]);
    expect(p.doc.Statement[0].Action).toEqual(expect.arrayContaining(["secretsmanager:GetSecretValue"]));
  });

  test("opens the cache port from the function's SG only, with the matching egress", () => {
    const json = withCache();
    const fnSg = ref(json, "aws_security_group", "fn_");
    const cacheSg = ref(json, "aws_security_group", "cache_");
    const cacheIngress = rules(json, "ingress").filter((r) => r.security_group_id === cacheSg);
    expect(cacheIngress).toHaveLength(1);
    expect(cacheIngress[0]).toMatchObject({ referenced_security_group_id: fnSg, from_port: 6379, to_port: 6379 });
    expect(rules(json, "egress").filter((r) => r.security_group_id === fnSg && r.referenced_security_group_id === cacheSg))
      .toHaveLength(1);
  });

  test("without NAT, a Secrets Manager interface endpoint is created, reachable on 443 from the function's SG only", () => {
    const json = withCache();
    const ep = resourcesOf(json, "aws_vpc_endpoint").map(([, e]) => e).filter((e) => e.vpc_endpoint_type === "Interface");
    expect(ep).toHaveLength(1);
    expect(ep[0].service_name).toBe("com.amazonaws.us-east-1.secretsmanager");
    expect(ep[0].private_dns_enabled).toBe(true);
    const epSg = ref(json, "aws_security_group", "network_endpoint-secretsmanager");
    const fnSg = ref(json, "aws_security_group", "fn_");
    const epIngress = rules(json, "ingress").filter((r) => r.security_group_id === epSg);
    expect(epIngress).toHaveLength(1);
    expect(epIngress[0]).toMatchObject({ referenced_security_group_id: fnSg, from_port: 443, to_port: 443, ip_protocol: "tcp" });
    expect(rules(json, "egress").filter((r) => r.security_group_id === fnSg && r.referenced_security_group_id === epSg)).toHaveLength(1);
  });

  test("with NAT too, the secret is reached through the endpoint (the function's SG has no internet egress)", () => {
    const json = withCache({ publicSubnets: true });
    expect(resourcesOf(json, "aws_nat_gateway").length).toBeGreaterThan(0);
    const fnSg = ref(json, "aws_security_group", "fn_");
    const epSg = ref(json, "aws_security_group", "network_endpoint-secretsmanager");
    expect(rules(json, "egress").filter((r) => r.security_group_id === fnSg && r.referenced_security_group_id === epSg)).toHaveLength(1);
    for (const r of rules(json, "egress")) expect(r.cidr_ipv4).toBeUndefined();
  });
});

describe("CacheAsideFunction.useDax", () => {
  test("sets DAX_ENDPOINT, opens 9111 from the function's SG and grants dax: actions on the cluster", () => {
    const json = synthFn({}, ({ fn, network }, scope) => {
      fn.useDax(new DaxCluster(scope, "dax", { network, tables: [{ tableArn: TABLE_ARN }] }));
    });
    const env = lambda(json).environment.variables;
    expect(env.DAX_ENDPOINT).toMatch(/^daxs:\/\//);
    const fnSg = ref(json, "aws_security_group", "fn_");
    const daxSg = ref(json, "aws_security_group", "dax_");
    const ingress = rules(json, "ingress").filter((r) => r.security_group_id === daxSg);
    expect(ingress).toHaveLength(1);
    expect(ingress[0]).toMatchObject({ referenced_security_group_id: fnSg, from_port: 9111, to_port: 9111 });
    expect(rules(json, "egress").filter((r) => r.security_group_id === fnSg && r.referenced_security_group_id === daxSg)).toHaveLength(1);
    const daxPolicy = rolePolicies(json).find((p) => p.name.startsWith("dax-"))!;
    expect(daxPolicy.doc.Statement[0].Resource).toEqual([ref(json, "aws_dax_cluster", "dax_", "arn")]);
    for (const a of daxPolicy.doc.Statement[0].Action) expect(a).toMatch(/^dax:/);
  });
});

describe("wiring across networks", () => {
  /** GIVEN a function in `network` and a second network `other` in the same stack. */
  function twoNetworks() {
    const { stack } = testStack("dev");
    const { fn } = build(stack);
    const other = new Network(stack, "other-network", { availabilityZones: AZS, cidr: "10.1.0.0/16" });
    return { stack, fn, other };
  }

  test("GIVEN a cache in another network WHEN fn.useCache(cache) THEN it fails naming both networks and what to do", () => {
    const { stack, fn, other } = twoNetworks();
    const cache = new RedisCache(stack, "cache", { network: other });
    const err = validationError(() => fn.useCache(cache));
    expect(err.constructPath).toBe("test/fn");
    expect(err.problems).toEqual([expect.objectContaining({ field: "useCache(test/cache).network", value: "test/other-network" })]);
    expect(err.message).toContain("the function's network (test/network)");
    expect(err.message).toContain("share one network between the stacks");
    // nothing was wired: no rule references the other VPC's group
    expect(fn.environment.REDIS_HOST).toBeUndefined();
  });

  test("GIVEN a DAX cluster in another network WHEN fn.useDax(dax) THEN it fails naming both networks", () => {
    const { stack, fn, other } = twoNetworks();
    const dax = new DaxCluster(stack, "dax", { network: other, tables: [{ tableArn: TABLE_ARN }] });
    const err = validationError(() => fn.useDax(dax));
    expect(err.problems).toEqual([expect.objectContaining({ field: "useDax(test/dax).network", value: "test/other-network" })]);
    expect(err.message).toContain("the function's network (test/network)");
  });

  test("GIVEN two network objects for the same VPC id WHEN wired THEN it is the same network", () => {
    // an imported network is known by its VPC id: two handles on one VPC are one network
    const { stack } = testStack("dev");
    const imported = (id: string) => Object.assign(new Construct(stack, id), {
      vpcId: "vpc-0123456789abcdef0", region: "us-east-1", availabilityZones: AZS, privateSubnetIds: ["subnet-1", "subnet-2"],
      dynamoDbPrefixListId: "pl-02cd2c6b", addInterfaceEndpoint: () => ({ connections: { allowDefaultPortFrom: () => undefined } }),
    });
    const fn = new CacheAsideFunction(stack, "fn", { network: imported("a") as unknown as Network, contract: PRODUCTS });
    const dax = new DaxCluster(stack, "dax", { network: imported("b") as unknown as Network, tables: [{ tableArn: TABLE_ARN }] });
    expect(() => fn.useDax(dax)).not.toThrow();
  });
});

describe("useDax: the cluster fronts the function's table", () => {
  /** GIVEN a table, a DAX cluster fronting `fronted`, and a function; `wire` orders the calls. */
  function app(wire: (fn: CacheAsideFunction, table: CacheTable, dax: DaxCluster) => void, fronted: "same" | "other" = "same") {
    const { app: a, stack } = testStack("dev");
    const { network, fn } = build(stack);
    const table = new CacheTable(stack, "products", { partitionKey: { name: "productId", type: "S" } });
    const other = new CacheTable(stack, "archive", { partitionKey: { name: "productId", type: "S" } });
    const dax = new DaxCluster(stack, "dax", { network, tables: [fronted === "same" ? table : other] });
    wire(fn, table, dax);
    return { app: a, stack };
  }
  const synthError = (run: () => unknown): string => {
    try {
      run();
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error("expected synthesis to fail");
  };

  test.each([
    ["useTable then useDax", (fn: CacheAsideFunction, t: CacheTable, d: DaxCluster) => fn.useTable(t).useDax(d)],
    ["useDax then useTable", (fn: CacheAsideFunction, t: CacheTable, d: DaxCluster) => fn.useDax(d).useTable(t)],
  ])("GIVEN a cluster fronting another table (%s) WHEN the app synthesizes THEN it fails naming path, field, value and allowed", (_order, wire) => {
    const { app: a } = app(wire, "other");
    const message = synthError(() => a.synth());
    expect(message).toContain("Invalid props for test/fn");
    expect(message).toContain("- useDax(test/dax).tables = \"test/products\"");
    expect(message).toContain("a table the cluster fronts (test/archive)");
    // Testing.synth runs the same validation when asked to
    const again = app(wire, "other");
    expect(synthError(() => Testing.synth(again.stack, true))).toContain("useDax(test/dax).tables");
  });

  test("GIVEN useDax and no useTable WHEN the app synthesizes THEN it fails: there is no table for the cluster to front", () => {
    const { app: a } = app((fn, _t, d) => fn.useDax(d));
    expect(synthError(() => a.synth())).toContain('- useDax(test/dax).tables = "no table"');
  });

  test.each([
    ["useTable then useDax", (fn: CacheAsideFunction, t: CacheTable, d: DaxCluster) => fn.useTable(t).useDax(d)],
    ["useDax then useTable", (fn: CacheAsideFunction, t: CacheTable, d: DaxCluster) => fn.useDax(d).useTable(t)],
  ])("GIVEN a cluster fronting the function's table (%s) WHEN the app synthesizes THEN it succeeds", (_order, wire) => {
    const { app: a } = app(wire);
    expect(() => a.synth()).not.toThrow();
  });
});

describe("CacheAsideFunction environment rules", () => {
  test.each(["REDIS_PASSWORD", "API_TOKEN", "DB_SECRET", "STRIPE_API_KEY"])("refuses the secret-looking variable %s", (name) => {
    expectInvalid({ environment: { [name]: "x" } }, `environment.${name}`, `"${name}"`);
  });

  test("accepts a secret's ARN variable", () => {
    const f = lambda(synthFn({ environment: { PAYMENTS_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x" } }));
    expect(f.environment.variables.PAYMENTS_SECRET_ARN).toMatch(/^arn:aws:secretsmanager:/);
  });

  test("refuses a malformed variable name", () => {
    expectInvalid({ environment: { "1BAD-NAME": "x" } }, "environment.1BAD-NAME", '"1BAD-NAME"');
  });

  test("addEnvironment refuses a secret-looking name", () => {
    const { stack } = testStack();
    const { fn } = build(stack);
    const err = validationError(() => fn.addEnvironment("ADMIN_PASSWORD", "x"));
    expect(err.message).toContain("test/fn");
    expect(err.message).toContain("environment.ADMIN_PASSWORD");
  });

  test("addEnvironment refuses two different values for one variable, and accepts the same twice", () => {
    const { stack } = testStack();
    const { fn } = build(stack);
    fn.addEnvironment("STAGE", "blue").addEnvironment("STAGE", "blue");
    const err = validationError(() => fn.addEnvironment("STAGE", "green"));
    expect(err.message).toContain("test/fn");
    expect(err.message).toContain("environment.STAGE");
    expect(err.message).toContain('"green"');
    expect(err.message).toContain("blue");
    expect(fn.environment.STAGE).toBe("blue");
  });
});

describe("CacheAsideFunction validation", () => {
  test("refuses memory 64", () => {
    expectInvalid({ memorySize: 64 }, "memorySize", "64");
  });

  test("refuses timeout 901", () => {
    expectInvalid({ timeoutSeconds: 901 }, "timeoutSeconds", "901");
  });

  test("refuses nodejs20.x, deprecated by AWS on 2026-04-30", () => {
    expectInvalid({ runtime: "nodejs20.x" as NodeRuntime }, "runtime", '"nodejs20.x"');
  });

  test("refuses runtime nodejs16.x", () => {
    expectInvalid({ runtime: "nodejs16.x" as NodeRuntime }, "runtime", '"nodejs16.x"');
  });

  test.each(["has space", "x".repeat(65), "dots.not.allowed"])("refuses the function name %p", (functionName) => {
    expectInvalid({ functionName }, "functionName", JSON.stringify(functionName));
  });

  test("refuses negative reserved concurrency", () => {
    expectInvalid({ reservedConcurrency: -1 }, "reservedConcurrency", "-1");
  });

  test("refuses an entry that is not a .ts or .js file", () => {
    expectInvalid({ contract: { ...PRODUCTS, entry: "functions/products/handler.py" } }, "contract.entry", '"functions/products/handler.py"');
  });

  test("refuses a missing entry file", () => {
    expectInvalid({ contract: { ...PRODUCTS, entry: "functions/missing/handler.ts" } }, "contract.entry", '"functions/missing/handler.ts"');
  });

  test("reports every problem together", () => {
    const { stack } = testStack();
    const err = validationError(() => build(stack, { memorySize: 64, timeoutSeconds: 0, environment: { API_TOKEN: "x" } }));
    expect(err.problems.map((p) => p.field)).toEqual(expect.arrayContaining(["memorySize", "timeoutSeconds", "environment.API_TOKEN"]));
  });
});

describe("CacheAsideFunction from a contract", () => {
  test("writes every runtime and contract setting into the environment, defaults included, and exposes them", () => {
    const { stack } = testStack();
    const network = new Network(stack, "network", { availabilityZones: AZS });
    const fn = new CacheAsideFunction(stack, "fn", { network, contract: SESSIONS, settings: { ttlSeconds: 120, contextTurns: 5 } });
    const vars = lambda(JSON.parse(Testing.synth(stack))).environment.variables;
    expect(vars).toMatchObject({ CACHE_TTL_SECONDS: "120", CONTEXT_TURNS: "5", RATE_LIMIT_PER_WINDOW: "30", SERVICE_NAME: "test", METRICS_NAMESPACE: "Cachefront/test", MAX_BODY_BYTES: "65536" });
    expect(fn.settings).toMatchObject({ ttlSeconds: 120, contextTurns: 5, rateLimitPerWindow: 30 });
    // The runtime reads back exactly what the construct wrote.
    const literal = Object.fromEntries(Object.entries(vars as Record<string, string>).filter(([, v]) => !v.includes("${")));
    const read = loadRuntimeConfig({ ...literal, TABLE_NAME: "t" });
    expect(read.ttlSeconds).toBe(120);
    expect(readSettings(SESSIONS.settings, literal).contextTurns).toBe(5);
  });

  test.each([
    ["a TTL of -5", { ttlSeconds: -5 }, "settings.ttlSeconds", "-5", "an integer from 1 to 86400 (CACHE_TTL_SECONDS"],
    ["a jitter of 0.9", { ttlJitterRatio: 0.9 }, "settings.ttlJitterRatio", "0.9", "a number from 0 to 0.5"],
    ["a contract setting out of range", { contextTurns: 0 }, "settings.contextTurns", "0", "an integer from 1 to 100 (CONTEXT_TURNS"],
    ["a namespace in AWS/", { metricsNamespace: "AWS/X" }, "settings.metricsNamespace", '"AWS/X"', 'not starting with "AWS/"'],
    ["an unknown setting", { ttl: 5 }, "settings.ttl", '"ttl"', "a setting of the runtime or the contract"],
  ])("GIVEN %s THEN synthesis fails naming path, field, value and what is allowed", (_case, settings, field, value, allowed) => {
    const { stack } = testStack();
    const network = new Network(stack, "network", { availabilityZones: AZS });
    const err = validationError(() => new CacheAsideFunction(stack, "fn", { network, contract: SESSIONS, settings: settings as never }));
    const line = err.message.split("\n").find((l) => l.includes(`- ${field} = ${value}: `));
    expect({ path: err.constructPath, line }).toEqual({ path: "test/fn", line: expect.stringContaining(allowed) });
  });

  test("the Lambda refuses the same value at cold start, with the same words", () => {
    expect(() => loadRuntimeConfig({ TABLE_NAME: "t", CACHE_TTL_SECONDS: "-5" })).toThrow(
      new ConfigError("CACHE_TTL_SECONDS", "-5", "an integer from 1 to 86400"),
    );
  });

  test("refuses runtime-owned variables in `environment`: they are written from settings and wiring", () => {
    const err = expectInvalid({ environment: { CACHE_TTL_SECONDS: "60" } }, "environment.CACHE_TTL_SECONDS", '"CACHE_TTL_SECONDS"');
    expect(err.message).toContain("through `settings`");
    expectInvalid({ environment: { TABLE_NAME: "x" } }, "environment.TABLE_NAME", '"TABLE_NAME"');
  });

  describe("useTable checks the table against the contract's layout", () => {
    const wire = (table: (s: Construct) => CacheTable, contract: typeof PRODUCTS | typeof SESSIONS = PRODUCTS) => {
      const { stack } = testStack();
      const network = new Network(stack, "network", { availabilityZones: AZS });
      const fn = new CacheAsideFunction(stack, "fn", { network, contract });
      return validationError(() => fn.useTable(table(stack)));
    };

    test("a partition key of another name fails, naming the table and the key the handler uses", () => {
      const err = wire((s) => new CacheTable(s, "t", { partitionKey: { name: "id", type: "S" } }));
      expect(err.constructPath).toBe("test/fn");
      expect(err.message).toContain('- useTable(test/t).partitionKey = "id (S)": productId (S), the partition key handler products reads and writes');
    });

    test("a key of another type, or an extra sort key, fails", () => {
      expect(wire((s) => new CacheTable(s, "t", { partitionKey: { name: "productId", type: "N" } })).message).toContain("partitionKey = \"productId (N)\"");
      expect(wire((s) => new CacheTable(s, "t", { partitionKey: { name: "productId", type: "S" }, sortKey: { name: "v", type: "S" } })).message)
        .toContain('sortKey = "v (S)": none');
    });

    test("a sessions table without the customer index or with another TTL attribute fails", () => {
      const err = wire((s) => new CacheTable(s, "t", { partitionKey: { name: "PK", type: "S" }, sortKey: { name: "SK", type: "S" }, timeToLiveAttribute: "ttl" }), SESSIONS);
      expect(err.problems.map((p) => p.field)).toEqual(["useTable(test/t).timeToLiveAttribute", "useTable(test/t).globalSecondaryIndexes"]);
      expect(err.message).toContain("by-customer");
    });

    test("a table of the contract's layout is accepted, and a second table under another variable is not checked", () => {
      const { stack } = testStack();
      const network = new Network(stack, "network", { availabilityZones: AZS });
      const fn = new CacheAsideFunction(stack, "fn", { network, contract: SESSIONS });
      expect(() => fn.useTable(new CacheTable(stack, "t", SESSIONS_TABLE))).not.toThrow();
      expect(() => fn.useTable(new CacheTable(stack, "other", { partitionKey: { name: "k", type: "S" } }), { envVar: "AUDIT_TABLE_NAME" })).not.toThrow();
    });
  });
});

describe("CacheAsideFunction deadlines", () => {
  test("a table deadline not below the function's timeout fails synthesis (a hung table would be a Lambda timeout, not a 503)", () => {
    const err = expectInvalid({ timeoutSeconds: 3, settings: { tableTimeoutMs: 3000 } }, "settings.tableTimeoutMs", "3000");
    expect(err.message).toContain("less than the function's timeout (3 s = 3000 ms)");
    const { stack } = testStack();
    expect(() => build(stack, { timeoutSeconds: 3, settings: { tableTimeoutMs: 2900 } })).not.toThrow();
  });
});

describe("CacheAsideFunction L1", () => {
  test("an L1 larger than a quarter of the function's memory fails synthesis; off, the size does not matter", () => {
    const err = expectInvalid({ memorySize: 256, settings: { l1TtlMs: 500, l1MaxBytes: 100 * 1024 * 1024 } }, "settings.l1MaxBytes", String(100 * 1024 * 1024));
    expect(err.message).toContain("a quarter of the function's memory (256 MB");
    const { stack } = testStack();
    expect(() => build(stack, { memorySize: 256, settings: { l1TtlMs: 0, l1MaxBytes: 100 * 1024 * 1024 } })).not.toThrow();
  });
});
