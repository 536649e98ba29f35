/**
 * Auth modes of the caches and what wiring a function makes: its own ElastiCache user (IAM or a
 * rotated password) limited to its key prefix, the grants that user needs and nothing more; caches
 * owned elsewhere (`fromAttributes`); ServerlessCache and MemcachedCache; the synth-time refusals.
 */
import { Construct } from "constructs";
import { redisAccessString } from "../../functions/lib/contract";
import { CacheAsideFunction } from "../../modules/function";
import { Network } from "../../modules/network";
import { CacheAuth, CacheEngine, MemcachedCache, RedisCache, RedisCacheProps, ServerlessCache } from "../../modules/redis";
import { PropsValidationError } from "../../modules/core/validation";
import { PRODUCTS, SESSIONS } from "../../modules";
import { onlyResource, resourcesOf, rolePolicies, synthJson, SynthJson, testStack } from "../helpers/synth";

const AZS = ["us-east-1a", "us-east-1b", "us-east-1c"];
const network = (scope: Construct) => new Network(scope, "network", { availabilityZones: AZS });
const vars = (json: SynthJson, fnPrefix = "fn_") => resourcesOf(json, "aws_lambda_function").find(([id]) => id.startsWith(fnPrefix))![1].environment.variables;
const users = (json: SynthJson) => resourcesOf(json, "aws_elasticache_user").map(([, u]) => u);

/** GIVEN a Redis cache with `props` and the product function wired to it. */
function wiredRedis(props: Partial<RedisCacheProps> = {}, profile: "dev" | "prod" = "prod"): SynthJson {
  return synthJson((stack) => {
    const net = network(stack);
    const cache = new RedisCache(stack, "cache", { network: net, ...props });
    new CacheAsideFunction(stack, "fn", { network: net, contract: PRODUCTS, settings: { serviceName: "products" } }).useCache(cache);
  }, profile);
}

function synthError(build: (stack: Construct) => void): PropsValidationError {
  const { stack } = testStack("prod");
  try {
    build(stack);
  } catch (e) {
    if (e instanceof PropsValidationError) return e;
    throw e;
  }
  throw new Error("expected a PropsValidationError");
}

describe.each(["prod", "dev"] as const)("IAM auth, the default (%s)", (profile) => {
  const json = wiredRedis({}, profile);

  test("the function gets its own IAM user: its key prefix, the runtime's commands, in the cache's user group", () => {
    const [disabledDefault, fnUser] = users(json).sort((a, b) => (a.user_name === "default" ? -1 : b.user_name === "default" ? 1 : 0));
    expect(fnUser.authentication_mode).toEqual({ type: "iam" });
    expect(fnUser.access_string).toBe(redisAccessString("products"));
    expect(fnUser.access_string).toMatch(/^on ~products:\{\* -@all \+get /);
    expect(fnUser.user_name).toBe(fnUser.user_id); // IAM: the name is the id
    // ElastiCache requires a "default" user in the group: it is disabled
    expect(disabledDefault).toMatchObject({ user_name: "default", access_string: "off -@all", authentication_mode: { type: "no-password-required" } });
    const group = onlyResource(json, "aws_elasticache_user_group");
    expect(group.user_ids).toHaveLength(2);
    expect(group.engine).toBe("valkey");
    const rg = onlyResource(json, "aws_elasticache_replication_group");
    expect(rg.user_group_ids).toEqual([expect.stringMatching(/^\$\{aws_elasticache_user_group\..*\.user_group_id\}$/)]);
    expect(rg.auth_token).toBeUndefined();
    expect(rg.transit_encryption_enabled).toBe(true);
  });

  test("elasticache:Connect on that replication group and that user only; no secret, no Secrets Manager endpoint", () => {
    const connect = rolePolicies(json).filter((p) => p.name.startsWith("connect-"));
    expect(connect).toHaveLength(1);
    expect(connect[0].doc.Statement).toEqual([{
      Effect: "Allow",
      Action: ["elasticache:Connect"],
      Resource: [expect.stringMatching(/^\$\{aws_elasticache_replication_group\..*\.arn\}$/), expect.stringMatching(/^\$\{aws_elasticache_user\.cache_users_user-fn_.*\.arn\}$/)],
    }]);
    expect(resourcesOf(json, "aws_secretsmanager_secret")).toEqual([]);
    expect(resourcesOf(json, "aws_vpc_endpoint").filter(([, e]) => e.vpc_endpoint_type === "Interface")).toEqual([]);
    expect(rolePolicies(json).flatMap((p) => p.doc.Statement.flatMap((s: any) => s.Action))).not.toContainEqual(expect.stringMatching(/^secretsmanager:/));
  });

  test("the environment names the user and the cache the runtime signs tokens for (variable names from CONNECTIONS)", () => {
    const env = vars(json);
    const user = users(json).find((u) => u.user_name !== "default")!;
    const rg = onlyResource(json, "aws_elasticache_replication_group");
    expect(env).toMatchObject({
      CACHE_BACKEND: "redis", REDIS_AUTH_MODE: "iam", REDIS_USER: user.user_id, REDIS_CACHE_NAME: rg.replication_group_id,
      REDIS_SERVERLESS: "false", REDIS_TLS: "true",
    });
    expect(env.REDIS_AUTH_SECRET_ARN).toBeUndefined();
  });
});

test("two services on one cache: two users, each limited to its own prefix and granted only its own user", () => {
  const json = synthJson((stack) => {
    const net = network(stack);
    const cache = new RedisCache(stack, "cache", { network: net });
    new CacheAsideFunction(stack, "a", { network: net, contract: PRODUCTS, settings: { serviceName: "catalog" } }).useCache(cache);
    new CacheAsideFunction(stack, "b", { network: net, contract: PRODUCTS, settings: { serviceName: "prices", keyPrefix: "prices-v2" } }).useCache(cache);
  });
  const byPrefix = Object.fromEntries(users(json).filter((u) => u.user_name !== "default").map((u) => [u.access_string.split(" ")[1], u]));
  expect(Object.keys(byPrefix).sort()).toEqual(["~catalog:{*", "~prices-v2:{*"]);
  for (const [fnId, prefix] of [["a", "~catalog:{*"], ["b", "~prices-v2:{*"]]) {
    const grant = rolePolicies(json).find((p) => p.name.startsWith("connect-") && resourcesOf(json, "aws_iam_role_policy").some(([, r]) => r.name === p.name && r.role.includes(`${fnId}_role`)))!;
    const userResource = grant.doc.Statement[0].Resource[1] as string;
    const userId = userResource.split(".")[1];
    expect(json.resource!.aws_elasticache_user[userId].access_string.split(" ")[1]).toBe(prefix);
  }
  expect(onlyResource(json, "aws_elasticache_user_group").user_ids).toHaveLength(3);
});

describe("password auth", () => {
  const json = wiredRedis({ auth: CacheAuth.password({ rotationDays: 7 }) });
  const user = () => users(json).find((u) => u.user_name !== "default")!;

  test("the user's first password comes from its own secret; the rotation function owns it from then on", () => {
    const u = user();
    expect(u.authentication_mode.type).toBe("password");
    expect(u.authentication_mode.passwords).toEqual([expect.stringMatching(/^\$\{jsondecode\(aws_secretsmanager_secret_version\..*\.secret_string\)\.password\}$/)]);
    expect(u.lifecycle.ignore_changes).toEqual(["authentication_mode"]);
    const version = onlyResource(json, "aws_secretsmanager_secret_version");
    expect(version.secret_string).toContain("uuid()");
    expect(version.secret_string).toContain(`"userId" = "${u.user_id}"`);
    expect(version.lifecycle.ignore_changes).toEqual(["secret_string"]);
  });

  test("a rotation schedule with the rotation function, which may touch that secret and that user only", () => {
    const rotation = onlyResource(json, "aws_secretsmanager_secret_rotation");
    expect(rotation.rotation_rules).toEqual({ automatically_after_days: 7 });
    expect(rotation.rotation_lambda_arn).toMatch(/^\$\{aws_lambda_function\.cache_users_rotator_fn_.*\.arn\}$/);
    const rotator = resourcesOf(json, "aws_lambda_function").find(([id]) => id.includes("rotator"))![1];
    expect(rotator.environment.variables).toMatchObject({ REDIS_HOST: expect.stringMatching(/primary_endpoint_address/), REDIS_TLS: "true" });
    const grant = rolePolicies(json).find((p) => p.name.startsWith("rotate-"))!;
    expect(grant.doc.Statement[0].Resource).toEqual([expect.stringMatching(/^\$\{aws_secretsmanager_secret\..*\.arn\}$/)]);
    expect(grant.doc.Statement[1]).toMatchObject({ Action: ["elasticache:ModifyUser", "elasticache:DescribeUsers"], Resource: [expect.stringMatching(/^\$\{aws_elasticache_user\..*\.arn\}$/)] });
    const invoke = onlyResource(json, "aws_lambda_permission");
    expect(invoke).toMatchObject({ principal: "secretsmanager.amazonaws.com", source_arn: expect.stringMatching(/aws_secretsmanager_secret\..*\.arn/) });
    // it reaches Secrets Manager and the ElastiCache API through interface endpoints
    expect(resourcesOf(json, "aws_vpc_endpoint").map(([, e]) => e.service_name).filter((s) => !s.endsWith("dynamodb")).sort())
      .toEqual(["com.amazonaws.us-east-1.elasticache", "com.amazonaws.us-east-1.secretsmanager"]);
  });

  test("the function reads its own secret and connects as its user; CF-SM-2 is not suppressed", () => {
    const env = vars(json);
    expect(env).toMatchObject({ REDIS_AUTH_MODE: "secret", REDIS_USER: user().user_id, REDIS_AUTH_SECRET_ARN: expect.stringMatching(/aws_secretsmanager_secret\./) });
    expect(JSON.stringify(json)).not.toContain("CF-SM-2");
  });
});

describe("validation", () => {
  test("IAM on an engine that cannot do it: a synth error with path, field, value and what is allowed", () => {
    const err = synthError((stack) => new RedisCache(stack, "cache", { network: network(stack), engine: CacheEngine.redis("6.2"), auth: CacheAuth.iam() }));
    expect(err.message).toContain("test/cache");
    expect(err.problems).toEqual([expect.objectContaining({ field: "auth", value: "iam on redis 6.2" })]);
    expect(err.message).toMatch(/Valkey >= 7.2 or Redis OSS >= 7.0.*CacheAuth.password\(\)/);
  });

  test("Redis OSS 6.2 without an auth mode gets rotated passwords (RBAC works there, IAM does not)", () => {
    const { stack } = testStack();
    const cache = new RedisCache(stack, "cache", { network: network(stack), engine: CacheEngine.redis("6.2") });
    expect(cache.auth.mode).toBe("password");
  });

  test("IAM on an imported cache without TLS; a user-group auth without the group's id", () => {
    const err = synthError((stack) => RedisCache.fromAttributes(stack, "shared", {
      network: network(stack), endpointAddress: "x", securityGroupId: "sg-1", clusterMode: false, replicationGroupId: "shared",
      auth: CacheAuth.iam(), transitEncryption: false,
    }));
    expect(err.message).toContain("test/shared");
    expect(err.problems.map((p) => [p.field, p.value])).toEqual([["auth", "iam without TLS"], ["userGroupId", undefined]]);
  });

  test("a function whose contract needs a sliding window cannot be wired to Memcached", () => {
    const err = synthError((stack) => {
      const net = network(stack);
      const cache = new MemcachedCache(stack, "cache", { network: net });
      new CacheAsideFunction(stack, "sessions", { network: net, contract: SESSIONS }).useCache(cache);
    });
    expect(err.message).toContain("test/sessions");
    expect(err.problems).toEqual([expect.objectContaining({ field: "useCache(test/cache)", value: "memcached cache" })]);
    expect(err.problems[0].allowed).toMatch(/hitWindow, which contract sessions needs for its sliding-window rate limit \(needs.slidingWindow\)/);
  });

  test("ElastiCache Serverless has no AUTH token", () => {
    const err = synthError((stack) => new ServerlessCache(stack, "cache", { network: network(stack), auth: CacheAuth.token() }));
    expect(err.problems.map((p) => p.field)).toEqual(["auth"]);
  });
});

describe("RedisCache.fromAttributes: a cache another stack owns", () => {
  const json = synthJson((stack) => {
    const net = network(stack);
    const shared = RedisCache.fromAttributes(stack, "shared", {
      network: net, endpointAddress: "shared.abc.cache.amazonaws.com", port: 6379, securityGroupId: "sg-0123456789abcdef0",
      clusterMode: true, replicationGroupId: "shared-cache", userGroupId: "shared-users", auth: CacheAuth.iam(),
    });
    new CacheAsideFunction(stack, "fn", { network: net, contract: PRODUCTS, settings: { serviceName: "products" } }).useCache(shared);
  });

  test("the function's user is made here and associated with the owner's group; no replication group in this stack", () => {
    expect(resourcesOf(json, "aws_elasticache_replication_group")).toEqual([]);
    expect(resourcesOf(json, "aws_elasticache_user_group")).toEqual([]);
    const [user] = users(json);
    expect(user.access_string).toBe(redisAccessString("products"));
    expect(onlyResource(json, "aws_elasticache_user_group_association")).toEqual(expect.objectContaining({
      user_group_id: "shared-users", user_id: expect.stringMatching(/^\$\{aws_elasticache_user\..*\.user_id\}$/),
    }));
  });

  test("ingress on the owner's security group from this function, Connect on that group and user, cluster mode in the environment", () => {
    const ingress = resourcesOf(json, "aws_vpc_security_group_ingress_rule").map(([, r]) => r);
    expect(ingress).toEqual([expect.objectContaining({ security_group_id: "sg-0123456789abcdef0", from_port: 6379 })]);
    // the group's ARN, derived from the user's (same partition, region and account): no lookup, plans offline
    const policy = resourcesOf(json, "aws_iam_role_policy").find(([, r]) => r.name.startsWith("connect-"))![1].policy as string;
    expect(policy).toMatch(/"Resource" = \[replace\(aws_elasticache_user\.shared_users_user-fn_\w+\.arn, "user:[a-z0-9-]+", "replicationgroup:shared-cache"\), aws_elasticache_user\.shared_users_user-fn_\w+\.arn\]/);
    expect(vars(json)).toMatchObject({ REDIS_HOST: "shared.abc.cache.amazonaws.com", REDIS_CLUSTER_MODE: "true", REDIS_CACHE_NAME: "shared-cache", REDIS_AUTH_MODE: "iam" });
  });
});

describe("ServerlessCache", () => {
  const json = synthJson((stack) => {
    const net = network(stack);
    const cache = new ServerlessCache(stack, "cache", { network: net });
    new CacheAsideFunction(stack, "fn", { network: net, contract: SESSIONS, settings: { serviceName: "sessions" } }).useCache(cache);
  });

  test("Valkey 8 with usage limits, snapshots, its security group and a user group; prod defaults", () => {
    const c = onlyResource(json, "aws_elasticache_serverless_cache");
    expect(c).toMatchObject({
      engine: "valkey", major_engine_version: "8", snapshot_retention_limit: 7, daily_snapshot_time: "03:00",
      cache_usage_limits: [{ data_storage: [{ maximum: 10, unit: "GB" }], ecpu_per_second: [{ maximum: 10000 }] }],
      user_group_id: expect.stringMatching(/aws_elasticache_user_group\./),
    });
    expect(c.subnet_ids).toHaveLength(3);
    expect(c.security_group_ids).toEqual([expect.stringMatching(/aws_security_group\.cache_sg_/)]);
  });

  test("the runtime connects in cluster mode with TLS, as its IAM user of a serverless cache", () => {
    const c = onlyResource(json, "aws_elasticache_serverless_cache");
    expect(vars(json)).toMatchObject({
      REDIS_HOST: expect.stringMatching(/aws_elasticache_serverless_cache\..*\.endpoint\[0\]\.address/), REDIS_PORT: "6379",
      REDIS_CLUSTER_MODE: "true", REDIS_TLS: "true", REDIS_AUTH_MODE: "iam", REDIS_SERVERLESS: "true", REDIS_CACHE_NAME: c.name,
    });
    const connect = rolePolicies(json).find((p) => p.name.startsWith("connect-"))!;
    expect(connect.doc.Statement[0].Resource[0]).toMatch(/^\$\{aws_elasticache_serverless_cache\..*\.arn\}$/);
  });
});

describe("MemcachedCache", () => {
  test("prod: TLS, 2 nodes across AZs, its parameter group; a function reaches the first node", () => {
    const json = synthJson((stack) => {
      const net = network(stack);
      new CacheAsideFunction(stack, "fn", { network: net, contract: PRODUCTS }).useCache(new MemcachedCache(stack, "cache", { network: net }));
    });
    const c = onlyResource(json, "aws_elasticache_cluster");
    expect(c).toMatchObject({
      engine: "memcached", engine_version: "1.6.22", transit_encryption_enabled: true, num_cache_nodes: 2, az_mode: "cross-az",
      preferred_availability_zones: ["us-east-1a", "us-east-1b"], port: 11211,
    });
    expect(onlyResource(json, "aws_elasticache_parameter_group").family).toBe("memcached1.6");
    expect(vars(json)).toMatchObject({ CACHE_BACKEND: "memcached", MEMCACHED_HOST: expect.stringMatching(/cache_nodes\[0\]\.address/), MEMCACHED_TLS: "true" });
    expect(vars(json).REDIS_HOST).toBeUndefined();
  });

  test("dev: one node in one AZ", () => {
    const json = synthJson((stack) => void new MemcachedCache(stack, "cache", { network: network(stack) }), "dev");
    expect(onlyResource(json, "aws_elasticache_cluster")).toMatchObject({ num_cache_nodes: 1, az_mode: "single-az", node_type: "cache.t4g.micro" });
  });
});

describe("moving from the AUTH token to per-function users (help/caching.md)", () => {
  const stage = (auth: CacheAuth) => wiredRedis({ auth });

  test("attach: the group replaces the token in one modify (DELETE); its default user takes the token, functions keep it", () => {
    const json = stage(CacheAuth.token({ migrateTo: CacheAuth.iam(), stage: "attach" }));
    const rg = onlyResource(json, "aws_elasticache_replication_group");
    expect(rg).toMatchObject({ auth_token_update_strategy: "DELETE", user_group_ids: [expect.any(String)] });
    expect(rg.auth_token).toBeUndefined();
    const dflt = users(json).find((u) => u.user_name === "default")!;
    expect(dflt).toMatchObject({ access_string: "on ~* +@all", authentication_mode: { type: "password", passwords: [expect.stringMatching(/aws_secretsmanager_secret_version\..*\.secret_string/)] } });
    expect(users(json).filter((u) => u.authentication_mode.type === "iam")).toHaveLength(1); // made now, used from "switch"
    expect(vars(json)).toMatchObject({ REDIS_AUTH_MODE: "secret", REDIS_AUTH_SECRET_ARN: expect.stringMatching(/auth-secret/) });
  });

  test("switch: functions use their own users; the token still logs in as default", () => {
    const json = stage(CacheAuth.token({ migrateTo: CacheAuth.iam(), stage: "switch" }));
    expect(vars(json)).toMatchObject({ REDIS_AUTH_MODE: "iam" });
    expect(users(json).find((u) => u.user_name === "default")!.access_string).toBe("on ~* +@all");
  });

  test("done (CacheAuth.iam()): default disabled, token secret gone", () => {
    const json = stage(CacheAuth.iam());
    expect(users(json).find((u) => u.user_name === "default")!.access_string).toBe("off -@all");
    expect(resourcesOf(json, "aws_secretsmanager_secret")).toEqual([]);
  });
});
