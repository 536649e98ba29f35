/**
 * Typed environment configuration: one object per environment, validated when loaded so a bad
 * value fails before any construct is built, with the field path in the message.
 *
 * An environment holds only what is not a default: every default is written once, with its
 * construct (RedisCache, DaxCluster, CacheAsideFunction, CacheApi, CacheObservability…) or in the
 * function's contract, and picks its dev or prod value from the environment's `name`. A test
 * (tests/stacks/config.test.ts) fails when the embedded environments restate a default.
 */
import {
  ApiDomainProps, CacheAlarmsProps, CacheEdgeProps, CacheWarmerProps, JwtAuthorizationProps, LOG_RETENTION_DAYS, MemcachedCacheProps, Profile, PropsValidator,
  ServerlessCacheProps, validateCacheAlarms, WebAclProps,

} from "../modules";
import { allowedText, RUNTIME_SETTINGS, Setting, settingProblem } from "../functions/lib/contract";
import { SESSIONS } from "../functions/sessions/contract";

/** Optional S3 remote state. Without it, state is local (`terraform.<stack>.tfstate`). */
export interface RemoteStateConfig {
  /** S3 bucket holding state (versioning and encryption on: that is the bucket owner's job). */
  readonly bucket: string;
  /** Key prefix; the stack name is appended, e.g. `cachefront/product-catalog-prod.tfstate`. */
  readonly keyPrefix: string;
  /** Region of the bucket. */
  readonly region: string;
  /** Optional KMS key for state encryption. @default the bucket's default encryption */
  readonly kmsKeyId?: string;
}

/** The ElastiCache Redis OSS / Valkey settings of an environment; each unset field takes RedisCache's default. */
export interface RedisConfig {
  /** Engine: `valkey` (wire-compatible, cheaper) or `redis`. @default RedisCache's (Valkey) */
  readonly engine?: "redis" | "valkey";
  /** Major.minor engine version, e.g. `8.0`. @default RedisCache's (8.0) */
  readonly engineVersion?: string;
  /** Node type, e.g. `cache.t4g.micro`. @default RedisCache's for the environment */
  readonly nodeType?: string;
  /** Replicas per shard (0–5); at least 1 in prod. @default RedisCache's for the environment */
  readonly replicasPerShard?: number;
  /** Shards; set to enable cluster mode. @default cluster mode off */
  readonly numShards?: number;
  /** Days to keep daily snapshots (0–35, 0 turns snapshots off). @default RedisCache's for the environment */
  readonly snapshotRetentionDays?: number;
  /** How functions authenticate: their own IAM user, their own rotated password, or one shared AUTH token. @default RedisCache's (IAM) */
  readonly auth?: "iam" | "password" | "token";
  /**
   * A cache deployed with the AUTH token, on its way to `auth` (iam or password): `attach`, then
   * `switch`, then remove this field (help/caching.md#migrating-from-the-auth-token).
   * @default no migration
   */
  readonly migrateFromToken?: "attach" | "switch";
}

/** The DAX settings of an environment; each unset field takes DaxCluster's default. */
export interface DaxConfig {
  /** DAX node type, e.g. `dax.t3.small` (never a `cache.*` type). @default DaxCluster's for the environment */
  readonly nodeType?: string;
  /** Nodes (1–10); at least 3 in prod, one per AZ. @default DaxCluster's for the environment */
  readonly replicationFactor?: number;
  /** How long DAX keeps an item read with GetItem, in milliseconds. @default DaxCluster's */
  readonly recordTtlMillis?: number;
  /** How long DAX keeps a Query result, in milliseconds; writes do not invalidate it. @default DaxCluster's */
  readonly queryTtlMillis?: number;
}

/**
 * Who may call the `caller` routes (session reads and appends, product writes): exactly one of a
 * JWT issuer, a Cognito user pool, or IAM (help/authorization.md).
 */
export interface AuthorizationConfig {
  /** Tokens of an OIDC issuer, verified by the JWT Lambda authorizer. */
  readonly jwt?: Pick<JwtAuthorizationProps, "issuer" | "audience" | "jwksUrl" | "identityClaim" | "resultTtlSeconds">;
  /** Tokens of this Cognito user pool (ARN), verified by API Gateway. */
  readonly cognitoUserPoolArn?: string;
  /** SigV4-signed calls from other AWS principals. */
  readonly iam?: true;
}

/** The CloudFront edge of a service: `CacheEdge`'s settings, and whether writes invalidate its copies. */
export interface EdgeConfig extends Pick<CacheEdgeProps, "domain" | "priceClass" | "originShieldRegion" | "restrictOriginToEdge"> {
  /**
   * Writes invalidate their edge paths through the table's stream (`EdgeInvalidator`), at $0.005 a
   * path after 1,000 a month: $5 per 1,000 product writes. Off, a write shows at the edge within
   * the function's s-maxage (plus stale-while-revalidate).
   * @default false
   */
  readonly invalidateOnWrite?: boolean;
}

/** One environment. Only `name`, `region`, `availabilityZones`, `vpcCidr` and `tags` are required. */
export interface EnvironmentConfig {
  /** `dev` or `prod`: the stack name suffix and the profile every construct's defaults follow. */
  readonly name: Profile;
  /** AWS region of the provider and every resource, e.g. `us-east-1`. */
  readonly region: string;
  /**
   * The AWS account the environment deploys into (12 digits). Terraform then refuses to touch any
   * other account, whatever the credentials, and the default app builds one account baseline stack
   * per account and region.
   * @default none: the account the credentials belong to; environments without one share a baseline per region
   */
  readonly accountId?: string;
  /** AZs for subnets; never looked up, so plans run offline. */
  readonly availabilityZones: readonly string[];
  /** IPv4 CIDR of the VPC (/16 to /24). */
  readonly vpcCidr: string;
  /** Retention of every log group (flow logs, Lambda, API access logs, cache logs). @default each construct's for the environment */
  readonly logRetentionDays?: number;
  /**
   * The kind of cache of each service: Redis/Valkey `nodes` (RedisCache), Valkey `serverless`
   * (ServerlessCache) or `memcached` (MemcachedCache; the session store needs a sliding window, so not for it).
   * @default "nodes"
   */
  readonly cacheKind?: "nodes" | "serverless" | "memcached";
  /** The Redis/Valkey cache (cacheKind `nodes`). @default RedisCache's defaults */
  readonly redis?: RedisConfig;
  /** The Serverless cache (cacheKind `serverless`): usage limits, snapshots. @default ServerlessCache's */
  readonly serverless?: Pick<ServerlessCacheProps, "maxDataStorageGb" | "maxEcpuPerSecond" | "snapshotRetentionLimit">;
  /** The Memcached cache (cacheKind `memcached`): node type and count. @default MemcachedCache's */
  readonly memcached?: Pick<MemcachedCacheProps, "nodeType" | "numNodes">;
  /** The DAX cluster. @default DaxCluster's defaults */
  readonly dax?: DaxConfig;
  /** Cache TTLs the functions use. @default the runtime settings' defaults (help/runtime.md) */
  readonly cache?: {
    /** Product cache TTL (the seed's 5 minutes), 1 s – 1 day. */
    readonly productTtlSeconds?: number;
    /** Assembled session-context TTL, 1 s – 1 day. */
    readonly sessionContextTtlSeconds?: number;
    /** Random extra TTL, as a fraction of the TTL (0–0.5), so keys written together do not expire together. */
    readonly ttlJitterRatio?: number;
  };
  /** Stage throttling of the API: steady requests per second and burst; WAF; a custom domain. @default CacheApi's for the environment */
  readonly api?: {
    readonly throttlingRateLimit?: number;
    readonly throttlingBurstLimit?: number;
    /** AWS WAF in front of the stage: on, off, or on with these settings. @default CacheApi's (on in prod, off in dev) */
    readonly waf?: boolean | Pick<WebAclProps, "rateLimitPer5Minutes" | "managedRuleGroups">;
    /** A custom domain on an ACM certificate you own. @default none */
    readonly domain?: ApiDomainProps;
  };
  /** Who may call the routes that need a verified caller. Required by the ready-made stacks: they have such routes. */
  readonly authorization?: AuthorizationConfig;
  /** Memory (MB), timeout (s) and reserved concurrency of the Lambda functions. @default CacheAsideFunction's */
  readonly function?: {
    readonly memorySize?: number;
    readonly timeoutSeconds?: number;
    readonly reservedConcurrency?: number;
  };
  /** Session store behaviour: rate limit and context size. @default the session contract's settings */
  readonly sessions?: {
    /** Requests per customer per window (sliding window). */
    readonly rateLimitPerWindow?: number;
    readonly rateLimitWindowSeconds?: number;
    /** Turns assembled into the context. */
    readonly contextTurns?: number;
  };
  /** Product catalog options. */
  readonly productCatalog?: {
    /** Put DAX between the product function and the table as well. @default false */
    readonly dax?: boolean;
    /** CloudFront in front of the API (help/edge.md): on, off, or on with these settings. @default on in prod, off in dev */
    readonly edge?: boolean | EdgeConfig;
    /** The warm function (help/edge.md): off, or these settings. @default on, with CacheWarmer's defaults (top 100 of "bestsellers", no schedule) */
    readonly warm?: false | Pick<CacheWarmerProps, "ids" | "top" | "rankList" | "schedule" | "runAfterDeploy">;
  };
  /** Dashboards (always) and alarms (on in prod): switch, email, thresholds, periods, evaluation counts. @default CacheObservability's */
  readonly observability?: { readonly alarms?: CacheAlarmsProps };
  /** S3 remote state; local state when absent (help/deploying.md). */
  readonly remoteState?: RemoteStateConfig;
  /** Default tags on every resource (the stack adds `Stack` and `ManagedBy`). */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The issuer the embedded environments name until you set yours (`loadConfig(env, { authorization:
 * { jwt: { issuer, audience } } })`): under the reserved `.example` domain, so a deployment that
 * keeps it can verify no token at all (it fails closed). The local twin signs its tokens for it.
 */
export const PLACEHOLDER_ISSUER = { issuer: "https://login.cachefront.example/", audience: "cachefront-api" } as const;

/**
 * The embedded environments the default app synthesizes: what differs from the defaults, and only
 * that (each value here is a deliberate difference, see tests/stacks/config.test.ts).
 */
export const ENVIRONMENTS: Readonly<Record<Profile, EnvironmentConfig>> = {
  dev: {
    name: "dev",
    region: "us-east-1",
    availabilityZones: ["us-east-1a", "us-east-1b"],
    vpcCidr: "10.20.0.0/16",
    authorization: { jwt: PLACEHOLDER_ISSUER },
    tags: { Environment: "dev", Project: "cachefront" },
  },
  prod: {
    name: "prod",
    region: "us-east-1",
    availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"],
    vpcCidr: "10.30.0.0/16",
    // Caps each function so a traffic spike cannot exhaust the cache's connections or the account's concurrency.
    function: { reservedConcurrency: 200 },
    authorization: { jwt: PLACEHOLDER_ISSUER },
    tags: { Environment: "prod", Project: "cachefront" },
  },
};

const AZ_RE = /^([a-z]{2}(?:-gov)?-[a-z]+-\d)[a-z]$/;
const REGION_RE = /^[a-z]{2}(?:-gov)?-[a-z]+-\d$/;

/** Records a problem when `value` is set and outside the range the runtime setting `s` allows. */
function checkSetting(v: PropsValidator, field: string, value: number | undefined, s: Setting): void {
  if (value === undefined) return;
  v.check(!settingProblem(s, value), field, value, `${allowedText(s)} (${s.env})`);
}

/**
 * Checks an environment config; throws one error listing every problem, each named
 * `config(<env>).<field>`. Construct-level limits (node families, name lengths) are checked
 * again by the constructs, with their construct paths; runtime settings by the same rules as the
 * Lambda applies at cold start.
 */
export function validateConfig(cfg: EnvironmentConfig): EnvironmentConfig {
  const v = new PropsValidator(`config(${cfg.name})`);
  v.oneOf("name", cfg.name, ["dev", "prod"] as Profile[]);
  v.matches("region", cfg.region, REGION_RE, "an AWS region name such as \"us-east-1\"");
  if (cfg.accountId !== undefined) v.matches("accountId", cfg.accountId, /^\d{12}$/, "a 12-digit AWS account id");
  v.check(cfg.availabilityZones.length >= 2, "availabilityZones", cfg.availabilityZones,
    "at least 2 zones: Redis replicas, DAX nodes and the Lambda are spread across AZs");
  cfg.availabilityZones.forEach((az, i) => {
    const m = AZ_RE.exec(az);
    v.check(!!m && m[1] === cfg.region, `availabilityZones[${i}]`, az, `a zone of region ${cfg.region}, e.g. "${cfg.region}a"`);
  });
  v.oneOf("logRetentionDays", cfg.logRetentionDays, LOG_RETENTION_DAYS);
  v.oneOf("cacheKind", cfg.cacheKind, ["nodes", "serverless", "memcached"] as const);
  v.oneOf("redis.engine", cfg.redis?.engine, ["redis", "valkey"] as const);
  v.oneOf("redis.auth", cfg.redis?.auth, ["iam", "password", "token"] as const);
  v.oneOf("redis.migrateFromToken", cfg.redis?.migrateFromToken, ["attach", "switch"] as const);
  v.check(!(cfg.redis?.migrateFromToken && cfg.redis.auth === "token"), "redis.auth", cfg.redis?.auth,
    "the auth a migration from the token goes to (iam or password), or no migrateFromToken");
  v.intRange("redis.replicasPerShard", cfg.redis?.replicasPerShard, 0, 5);
  v.intRange("redis.numShards", cfg.redis?.numShards, 1, 500);
  v.intRange("redis.snapshotRetentionDays", cfg.redis?.snapshotRetentionDays, 0, 35);
  v.intRange("dax.replicationFactor", cfg.dax?.replicationFactor, 1, 10);
  checkSetting(v, "cache.productTtlSeconds", cfg.cache?.productTtlSeconds, RUNTIME_SETTINGS.ttlSeconds);
  checkSetting(v, "cache.sessionContextTtlSeconds", cfg.cache?.sessionContextTtlSeconds, RUNTIME_SETTINGS.ttlSeconds);
  checkSetting(v, "cache.ttlJitterRatio", cfg.cache?.ttlJitterRatio, RUNTIME_SETTINGS.ttlJitterRatio);
  const rate = cfg.api?.throttlingRateLimit;
  v.check(rate === undefined || rate > 0, "api.throttlingRateLimit", rate, "a positive number of requests per second");
  v.intRange("api.throttlingBurstLimit", cfg.api?.throttlingBurstLimit, 1, 100_000);
  checkSetting(v, "sessions.rateLimitPerWindow", cfg.sessions?.rateLimitPerWindow, SESSIONS.settings.rateLimitPerWindow);
  checkSetting(v, "sessions.rateLimitWindowSeconds", cfg.sessions?.rateLimitWindowSeconds, SESSIONS.settings.rateLimitWindowSeconds);
  checkSetting(v, "sessions.contextTurns", cfg.sessions?.contextTurns, SESSIONS.settings.contextTurns);
  if (cfg.name === "prod") {
    // HA is the point of prod; a single node would be a silent downgrade.
    const replicas = cfg.redis?.replicasPerShard;
    v.check(replicas === undefined || replicas >= 1, "redis.replicasPerShard", replicas,
      "at least 1 in prod (automatic failover and multi-AZ need a replica)");
    const nodes = cfg.dax?.replicationFactor;
    v.check(nodes === undefined || nodes >= 3, "dax.replicationFactor", nodes,
      "at least 3 in prod (one node per AZ, as AWS recommends for production)");
  }
  validateCacheAlarms(v, "observability.alarms", cfg.observability?.alarms);
  const auth = cfg.authorization;
  if (auth) {
    const kinds = (["jwt", "cognitoUserPoolArn", "iam"] as const).filter((k) => auth[k] !== undefined);
    v.check(kinds.length === 1, "authorization", kinds, "exactly one of jwt, cognitoUserPoolArn, iam");
  }
  if (cfg.remoteState) {
    v.matches("remoteState.bucket", cfg.remoteState.bucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name");
    v.matches("remoteState.region", cfg.remoteState.region, REGION_RE, "an AWS region name");
    v.matches("remoteState.keyPrefix", cfg.remoteState.keyPrefix, /^[A-Za-z0-9!_.*'()/-]*$/, "an S3 key prefix");
  }
  v.throwIfAny();
  return cfg;
}

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { readonly [K in keyof T]?: DeepPartial<T[K]> } : T;

/** Override of an environment: any subset of fields, at any depth. */
export type ConfigOverride = DeepPartial<EnvironmentConfig>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** Objects are merged key by key at every depth; arrays and scalars are replaced. */
function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(override)) return override === undefined ? base : override;
  if (!isPlainObject(base)) base = {};
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(override)) out[k] = deepMerge(out[k], v);
  return out;
}

/**
 * The named environment with an optional override merged in at any depth (so
 * `{ observability: { alarms: { redisCpu: { threshold: 70 } } } }` changes one threshold and
 * keeps the rest), validated.
 */
export function loadConfig(name: Profile, override: ConfigOverride = {}): EnvironmentConfig {
  const base = ENVIRONMENTS[name];
  if (!base) throw new Error(`config: unknown environment ${JSON.stringify(name)}; allowed: ${Object.keys(ENVIRONMENTS).join(", ")}`);
  return validateConfig(deepMerge(base, override) as EnvironmentConfig);
}
