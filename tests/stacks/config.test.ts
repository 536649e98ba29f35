import { RedisCache } from "../../modules";
import { Testing } from "cdktf";
import { DaxCluster } from "../../modules";
import { EnvironmentConfig, ENVIRONMENTS, loadConfig, validateConfig } from "../../stacks/config";
import { ProductCatalogStack } from "../../stacks/product-catalog";
import { SessionStoreStack } from "../../stacks/session-store";

/** The session store of `config`, built (not synthesized): its constructs hold the values in force. */
const sessionStore = (config: EnvironmentConfig) => new SessionStoreStack(Testing.app(), `ss-${config.name}`, { config });
const synthOf = (config: EnvironmentConfig) => [ProductCatalogStack, SessionStoreStack]
  .map((S) => Testing.synth(new S(Testing.app(), `s-${config.name}`, { config })))
  .join("\n");

/** Every leaf of an object, as [dotted path, value]; arrays are leaves. */
function leaves(o: unknown, prefix = ""): Array<[string, unknown]> {
  if (!o || typeof o !== "object" || Array.isArray(o)) return [[prefix, o]];
  return Object.entries(o).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

/** `o` without the leaf at `path`. */
function without(o: Record<string, unknown>, path: string): Record<string, unknown> {
  const [head, ...rest] = path.split(".");
  if (rest.length === 0) {
    const { [head]: _dropped, ...kept } = o;
    return kept;
  }
  return { ...o, [head]: without(o[head] as Record<string, unknown>, rest.join(".")) };
}

/** What an environment must say, having no default. */
const REQUIRED = ["name", "region", "availabilityZones", "vpcCidr", "tags"];
/** Every value the embedded environments set beyond the required ones, and why it differs from the default. */
const DELIBERATE: Record<string, string> = {
  "prod.function.reservedConcurrency": "caps each function so a spike cannot exhaust the cache's connections or the account's concurrency; " +
    "CacheAsideFunction reserves nothing by default because a reservation is carved out of the account's pool",
  ...Object.fromEntries((["dev", "prod"] as const).flatMap((env) => (["issuer", "audience"] as const).map((f) => [`${env}.authorization.jwt.${f}`,
    "who may call the caller routes has no default: the embedded placeholder issuer (reserved .example domain) fails closed until replaced"]))),
};

describe("environment config", () => {
  test.each(["dev", "prod"] as const)("the embedded %s config is valid", (name) => {
    expect(() => validateConfig(ENVIRONMENTS[name])).not.toThrow();
  });

  test("prod is highly available, dev is cheap (the values in force, from the constructs' defaults)", () => {
    const prod = sessionStore(ENVIRONMENTS.prod);
    const dev = sessionStore(ENVIRONMENTS.dev);
    expect((prod.cache as RedisCache).replicasPerShard).toBeGreaterThanOrEqual(1);
    expect(prod.dax.replicationFactor).toBeGreaterThanOrEqual(3);
    expect(ENVIRONMENTS.prod.availabilityZones.length).toBeGreaterThanOrEqual(3);
    expect((dev.cache as RedisCache).replicasPerShard).toBe(0);
    expect(dev.dax.replicationFactor).toBe(1);
  });

  test("overrides merge at any depth", () => {
    const cfg = loadConfig("dev", { redis: { nodeType: "cache.t4g.small" } });
    expect(cfg.redis?.nodeType).toBe("cache.t4g.small");
    expect((sessionStore(cfg).cache as RedisCache).engineName).toBe("valkey");
    const prod = loadConfig("prod", { observability: { alarms: { redisCpu: { threshold: 70 } } } });
    expect(prod.observability?.alarms?.redisCpu?.threshold).toBe(70);
    const settings = sessionStore(prod).observability.alarmSettings;
    expect(settings.redisCpu.threshold).toBe(70);
    expect(settings.redisCpu.periodSeconds).toBe(300);
    expect(settings.redisMemory.threshold).toBe(85);
    expect(prod.function?.reservedConcurrency).toBe(ENVIRONMENTS.prod.function?.reservedConcurrency); // siblings kept
    expect(prod.availabilityZones).toEqual(ENVIRONMENTS.prod.availabilityZones); // arrays replaced, not merged
  });

  test("the embedded environments restate no default: every value beyond the required ones changes the stacks and is explained", () => {
    const optional = (["dev", "prod"] as const).flatMap((env) =>
      leaves(ENVIRONMENTS[env]).filter(([p]) => !REQUIRED.includes(p.split(".")[0])).map(([p]) => [env, p] as const));
    expect(optional.map(([env, p]) => `${env}.${p}`).sort()).toEqual(Object.keys(DELIBERATE).sort());
    for (const [env, p] of optional) {
      const withIt = synthOf(ENVIRONMENTS[env]);
      // A value the stacks cannot do without (the issuer) changes them as much as a value can: synthesis fails.
      const withoutIt = (() => {
        try {
          return synthOf(without(ENVIRONMENTS[env] as never, p) as never);
        } catch (err) {
          return `synthesis fails: ${(err as Error).message}`;
        }
      })();
      expect({ field: `${env}.${p}`, changesTheStacks: withIt !== withoutIt }).toEqual({ field: `${env}.${p}`, changesTheStacks: true });
    }
  });

  test("the check above can fail: a config restating a construct default synthesizes identically without it", () => {
    const restating = { ...ENVIRONMENTS.dev, redis: { nodeType: "cache.t4g.micro" } }; // RedisCache's dev default
    expect(synthOf(restating)).toBe(synthOf(ENVIRONMENTS.dev));
  });

  test("DAX TTLs: one default, the construct's (the query cache is never invalidated, so its TTL is short)", () => {
    for (const env of ["dev", "prod"] as const) {
      const dax: DaxCluster = sessionStore(ENVIRONMENTS[env]).dax;
      const params = Object.fromEntries((dax.parameterGroup.parametersInput as Array<{ name: string; value: string }>).map((x) => [x.name, x.value]));
      expect(params).toEqual({ "query-ttl-millis": "60000", "record-ttl-millis": "300000" });
    }
    expect(ENVIRONMENTS.prod.dax).toBeUndefined();
    expect(ENVIRONMENTS.dev.dax).toBeUndefined();
  });

  // GIVEN a bad value WHEN the config loads THEN one error names config(<env>).<field>, the value and what is allowed
  test.each([
    ["fewer than 2 AZs", "dev", { availabilityZones: ["us-east-1a"] }, "availabilityZones", "at least 2 zones"],
    ["an AZ of another region", "dev", { availabilityZones: ["us-east-1a", "eu-west-1b"] }, "availabilityZones[1]", "\"eu-west-1b\""],
    ["a bad region", "dev", { region: "mars-1" }, "region", "\"mars-1\""],
    ["product TTL of 0", "dev", { cache: { productTtlSeconds: 0 } }, "cache.productTtlSeconds", "from 1 to 86400"],
    ["context TTL over a day", "dev", { cache: { sessionContextTtlSeconds: 86_401 } }, "cache.sessionContextTtlSeconds", "86401"],
    ["TTL jitter over 50 %", "dev", { cache: { ttlJitterRatio: 0.9 } }, "cache.ttlJitterRatio", "0.9"],
    ["6 replicas", "dev", { redis: { replicasPerShard: 6 } }, "redis.replicasPerShard", "from 0 to 5"],
    ["0 shards", "dev", { redis: { numShards: 0 } }, "redis.numShards", "from 1 to 500"],
    ["prod without a replica", "prod", { redis: { replicasPerShard: 0 } }, "redis.replicasPerShard", "at least 1 in prod"],
    ["prod DAX of 1 node", "prod", { dax: { replicationFactor: 1 } }, "dax.replicationFactor", "at least 3 in prod"],
    ["log retention of 8 days", "dev", { logRetentionDays: 8 }, "logRetentionDays", "8"],
    ["zero throttling", "dev", { api: { throttlingRateLimit: 0 } }, "api.throttlingRateLimit", "positive"],
    ["a hit-ratio threshold over 100 %", "prod", { observability: { alarms: { cacheHitRatio: { threshold: 120 } } } }, "observability.alarms.cacheHitRatio.threshold", "120"],
    ["a bad state bucket", "dev", { remoteState: { bucket: "Bad_Bucket", keyPrefix: "x", region: "us-east-1" } }, "remoteState.bucket", "Bad_Bucket"],
  ])("rejects %s", (_case, env, override, field, fragment) => {
    expect(() => loadConfig(env as "dev" | "prod", override as never)).toThrow(
      expect.objectContaining({ message: expect.stringContaining(`config(${env})`) }),
    );
    try {
      loadConfig(env as "dev" | "prod", override as never);
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain(`${field} =`);
      expect(msg).toContain(fragment);
    }
  });

  test("reports every problem of a config together", () => {
    expect(() => loadConfig("dev", { region: "nowhere", logRetentionDays: 2 } as never)).toThrow(/region[\s\S]*logRetentionDays|logRetentionDays[\s\S]*region/);
  });

  test("a stack re-validates a hand-built config and names it", () => {
    const app = Testing.app();
    const bad = { ...ENVIRONMENTS.dev, availabilityZones: ["us-east-1a"] };
    expect(() => new ProductCatalogStack(app, "pc", { config: bad })).toThrow(/config\(dev\)[\s\S]*availabilityZones/);
  });

  test("a construct-level limit fails with the construct path (DAX node type of the wrong family)", () => {
    const app = Testing.app();
    const cfg = loadConfig("dev", { productCatalog: { dax: true }, dax: { nodeType: "cache.t4g.micro" } } as never);
    expect(() => new ProductCatalogStack(app, "pc", { config: cfg })).toThrow(/pc\/dax[\s\S]*nodeType[\s\S]*cache\.t4g\.micro/);
  });

  test("a construct-level limit fails with the construct path (Redis node type of the wrong family)", () => {
    const app = Testing.app();
    const cfg = loadConfig("dev", { redis: { nodeType: "dax.r5.large" } } as never);
    expect(() => new ProductCatalogStack(app, "pc", { config: cfg })).toThrow(/pc\/cache[\s\S]*nodeType[\s\S]*dax\.r5\.large/);
  });
});

describe("cache auth in the environment config", () => {
  test("IAM by default; password or token on request; a migration from the token by its stage", () => {
    expect((sessionStore(ENVIRONMENTS.prod).cache as RedisCache).auth.mode).toBe("iam");
    expect((sessionStore(loadConfig("dev", { redis: { auth: "password" } })).cache as RedisCache).auth.mode).toBe("password");
    const attach = sessionStore(loadConfig("prod", { redis: { migrateFromToken: "attach" } })).cache as RedisCache;
    expect(String(attach.auth)).toBe("token → iam (attach)");
    expect(attach.authSecret).toBeDefined(); // clients still on the token until "switch"
    expect(String((sessionStore(loadConfig("prod", { redis: { auth: "password", migrateFromToken: "switch" } })).cache as RedisCache).auth))
      .toBe("token → password (switch)");
  });

  test("a migration to the token itself, or an unknown stage, is a config error naming the field", () => {
    expect(() => loadConfig("dev", { redis: { auth: "token", migrateFromToken: "attach" } })).toThrow(/config\(dev\)[\s\S]*redis\.auth = "token"/);
    expect(() => loadConfig("dev", { redis: { migrateFromToken: "later" as never } })).toThrow(/redis\.migrateFromToken/);
  });
});
