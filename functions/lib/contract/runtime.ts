/**
 * The runtime's own contract: the settings every handler built on `functions/lib` reads, the
 * connections its wiring sets, and the health route. Each variable name, default and range is
 * written here once; `CacheAsideFunction` writes the environment from it, the Lambda reads it
 * back with the same rules, and the local twin rewrites the connections by these names.
 */
import { boolean, integer, number, RouteSpec, string } from "./language";

/** `^[^{}]+$`: braces in a key prefix would move the Redis Cluster hash tag (functions/lib/cache/keys.ts). */
const KEY_PREFIX_PATTERN = "^[^{}\\s]{1,100}$";

/**
 * Values of `CALLER_IDENTITY_SOURCE`: where API Gateway hands the function the caller its
 * authorization verified. `lambda`: a Lambda authorizer's `principalId`
 * (`requestContext.authorizer.principalId`); `iam`: the SigV4 signer's ARN
 * (`requestContext.identity.userArn`); `cognito:<claim>`: a claim of a Cognito user pool token
 * (`requestContext.authorizer.claims.<claim>`).
 */
export const CALLER_IDENTITY = { lambda: "lambda", iam: "iam", cognitoPrefix: "cognito:" } as const;

/** Tunables of the runtime a stack may set through `CacheAsideFunction`'s `settings`. */
export const RUNTIME_SETTINGS = {
  serviceName: string("SERVICE_NAME", {
    default: "cachefront",
    pattern: "^[A-Za-z0-9][A-Za-z0-9._:/-]{0,254}$",
    patternText: "1-255 characters of letters, digits, '.', '_', ':', '/', '-', starting with a letter or digit",
    description: "the metrics' `Service` dimension and the default cache key prefix (`CacheAsideFunction` sets the stack's id)",
  }),
  metricsNamespace: string("METRICS_NAMESPACE", {
    default: "Cachefront",
    pattern: "^(?!AWS/)[A-Za-z0-9][A-Za-z0-9._/#:-]{0,254}$",
    patternText: "a CloudWatch namespace: 1-255 characters of letters, digits, '.', '_', '/', '#', ':', '-', not starting with \"AWS/\"",
    description: "CloudWatch namespace of the EMF metrics (`CacheAsideFunction` sets `Cachefront/<service name>`)",
  }),
  keyPrefix: string("CACHE_KEY_PREFIX", {
    derived: "the service name",
    pattern: KEY_PREFIX_PATTERN,
    patternText: "1-100 characters without '{', '}' or spaces",
    description: "prefix of every cache key (`<prefix>:{key}`), so services can share one cache",
  }),
  ttlSeconds: integer("CACHE_TTL_SECONDS", { default: 300, min: 1, max: 86_400, description: "TTL of a cached value before jitter (the seed's 5 minutes)" }),
  ttlJitterRatio: number("CACHE_TTL_JITTER_RATIO", {
    default: 0.1, min: 0, max: 0.5, description: "extra random TTL as a fraction, so keys written together do not expire together",
  }),
  negativeTtlSeconds: integer("NEGATIVE_CACHE_TTL_SECONDS", { default: 30, min: 1, max: 3_600, description: "TTL of \"not found\" entries" }),
  cacheControlMaxAgeSeconds: integer("CACHE_CONTROL_MAX_AGE_SECONDS", {
    default: 60, min: 0, max: 86_400, description: "`max-age` of cacheable (public) responses: how long a browser may reuse one",
  }),
  cacheControlSharedMaxAgeSeconds: integer("CACHE_CONTROL_S_MAXAGE_SECONDS", {
    default: 60, min: 0, max: 86_400,
    description: "`s-maxage` of cacheable (public) responses: how long a shared cache (the CloudFront edge) keeps one; without edge invalidation, how long a write can stay unseen there",
  }),
  cacheControlStaleWhileRevalidateSeconds: integer("CACHE_CONTROL_STALE_WHILE_REVALIDATE_SECONDS", {
    default: 30, min: 0, max: 86_400,
    description: "`stale-while-revalidate` of cacheable (public) responses: how long past `s-maxage` the edge may answer with the old copy while it fetches a new one (0: not sent)",
  }),
  l1TtlMs: integer("L1_TTL_MS", {
    default: 0, min: 0, max: 60_000,
    description: "lifetime of an entry in the function's in-process L1 (0: no L1); a write elsewhere can be served from it for at most this long",
  }),
  l1MaxEntries: integer("L1_MAX_ENTRIES", { default: 10_000, min: 1, max: 1_000_000, description: "most entries the L1 holds (least recently used out first)" }),
  l1MaxBytes: integer("L1_MAX_BYTES", { default: 16 * 1024 * 1024, min: 1_024, max: 1024 * 1024 * 1024, description: "most bytes the L1 holds" }),
  leaseTtlMs: integer("CACHE_LEASE_TTL_MS", { default: 3_000, min: 100, max: 60_000, description: "lifetime of a miss's lease (stampede lock)" }),
  leaseWaitMs: integer("CACHE_LEASE_WAIT_MS", {
    default: 1_000, min: 0, max: 30_000, description: "longest a reader that lost the lease race waits for the fill",
  }),
  breakerFailureThreshold: integer("BREAKER_FAILURE_THRESHOLD", { default: 3, min: 1, max: 1_000, description: "cache failures within the window that open the circuit" }),
  breakerWindowMs: integer("BREAKER_WINDOW_MS", { default: 10_000, min: 100, max: 600_000, description: "window in which cache failures are counted" }),
  breakerCooldownMs: integer("BREAKER_COOLDOWN_MS", { default: 2_000, min: 100, max: 600_000, description: "how long the circuit stays open before one probe" }),
  cacheCommandTimeoutMs: integer("CACHE_COMMAND_TIMEOUT_MS", { default: 150, min: 10, max: 10_000, description: "longest one cache command may take" }),
  cacheConnectTimeoutMs: integer("CACHE_CONNECT_TIMEOUT_MS", {
    default: 1_000, min: 50, max: 10_000, description: "longest the first connection to the cache (TCP, TLS, AUTH) may take",
  }),
  tableTimeoutMs: integer("TABLE_TIMEOUT_MS", {
    default: 2_500, min: 100, max: 60_000,
    description: "longest one DynamoDB call may take, retries included; then the request answers 503 (must be below the function's timeout)",
  }),
  maxBodyBytes: integer("MAX_BODY_BYTES", { default: 64 * 1024, min: 1, max: 6 * 1024 * 1024, description: "largest request body accepted" }),
  logLevel: string("LOG_LEVEL", { default: "info", values: ["debug", "info", "warn", "error", "silent"], description: "lowest level of log line written" }),
} as const;

/**
 * Settings of the stream invalidator (`defineStreamInvalidator`), on top of the runtime's own: it
 * reads the cache settings above (key prefix, breaker, command timeout) as the function whose
 * entries it invalidates does.
 */
export const INVALIDATOR_SETTINGS = {
  cacheWaitMs: integer("INVALIDATION_CACHE_WAIT_MS", {
    default: 20_000, min: 0, max: 840_000,
    description: "longest one invocation of the stream invalidator waits for an unreachable cache before it reports the record as failed, so Lambda retries it (bounded by the invocation's remaining time)",
  }),
} as const;

/**
 * Settings of a handler with a WebSocket API (`WebSocketApi`): a contract that serves socket routes
 * spreads them into its own `settings`, so they are typed, range-checked and written like the rest.
 */
export const REALTIME_SETTINGS = {
  connectionTtlSeconds: integer("REALTIME_CONNECTION_TTL_SECONDS", {
    default: 7_200, min: 60, max: 7_200,
    description: "lifetime of a connection's entries in the connection map and presence without a `$disconnect` (API Gateway closes a WebSocket after 2 hours at most)",
  }),
  pushTimeoutMs: integer("REALTIME_PUSH_TIMEOUT_MS", {
    default: 2_000, min: 100, max: 10_000,
    description: "longest the push of one turn to a session's connections may take; the turn is stored either way (must be below the function's timeout)",
  }),
} as const;

/** Endpoints and names the wiring (`useTable`, `useCache`, `useDax`), Lambda or the local twin set. */
export const CONNECTIONS = {
  region: string("AWS_REGION", { derived: "the fallback region (`defaultRegion`), else us-east-1", description: "region of the clients (Lambda sets it)" }),
  defaultRegion: string("AWS_DEFAULT_REGION", { optional: true, description: "fallback region" }),
  tableName: string("TABLE_NAME", { description: "the DynamoDB table (set by `useTable`)" }),
  dynamoDbEndpoint: string("DYNAMODB_ENDPOINT", { optional: true, description: "DynamoDB endpoint override (the local twin and tests)" }),
  daxEndpoint: string("DAX_ENDPOINT", { optional: true, description: "`daxs://host:port` of the DAX cluster in front of the table (set by `useDax`)" }),
  cacheBackend: string("CACHE_BACKEND", {
    values: ["redis", "memcached", "dynamodb", "memory"],
    derived: "redis when the cache host (`redisHost`) is set, memcached when `memcachedHost` is, else memory",
    description: "the cache store (set by `useCache`)",
  }),
  redisHost: string("REDIS_HOST", { optional: true, description: "primary (or configuration) endpoint of the Redis/Valkey cache (set by `useCache`)" }),
  redisPort: integer("REDIS_PORT", { default: 6379, min: 1, max: 65_535, description: "port of the cache" }),
  redisTls: boolean("REDIS_TLS", { default: true, description: "connect with TLS" }),
  redisClusterMode: boolean("REDIS_CLUSTER_MODE", { default: false, description: "speak the Redis Cluster protocol" }),
  redisAuthSecretArn: string("REDIS_AUTH_SECRET_ARN", {
    optional: true, description: "Secrets Manager ARN of the AUTH token, or of a user's name and password as JSON (set by `useCache`)",
  }),
  redisAuthMode: string("REDIS_AUTH_MODE", {
    values: ["none", "secret", "iam"],
    derived: "secret when the secret's ARN (`redisAuthSecretArn`) is set, else none",
    description: "how connections authenticate: no AUTH (a local Redis), a token or user password from Secrets Manager, or IAM (set by `useCache`)",
  }),
  redisUser: string("REDIS_USER", { optional: true, description: "the ElastiCache user connections authenticate as (IAM: the user id; set by `useCache`)" }),
  redisCacheName: string("REDIS_CACHE_NAME", {
    optional: true, description: "replication group id or serverless cache name, which IAM auth tokens are signed for (set by `useCache`)",
  }),
  redisServerless: boolean("REDIS_SERVERLESS", { default: false, description: "the cache is ElastiCache Serverless (IAM tokens name it as such)" }),
  memcachedHost: string("MEMCACHED_HOST", { optional: true, description: "endpoint of the Memcached cache (set by `useCache`)" }),
  memcachedPort: integer("MEMCACHED_PORT", { default: 11_211, min: 1, max: 65_535, description: "port of the Memcached cache" }),
  memcachedTls: boolean("MEMCACHED_TLS", { default: true, description: "connect to Memcached with TLS (in-transit encryption)" }),
  cacheTableName: string("CACHE_TABLE_NAME", { optional: true, description: "table of the `dynamodb` cache backend" }),
  pusherFunction: string("REALTIME_PUSHER_FUNCTION", {
    optional: true,
    description: "the function that posts to the WebSocket API's connections from outside the VPC (set by `WebSocketApi`); unset: turns are stored and pushed to nobody",
  }),
  edgeDistributionId: string("EDGE_DISTRIBUTION_ID", {
    optional: true, pattern: "^[A-Z0-9]{1,64}$", patternText: "a CloudFront distribution id (capital letters and digits)",
    description: "the CloudFront distribution whose cached paths the edge invalidator invalidates (set by `CacheEdge`)",
  }),
  cloudfrontEndpoint: string("CLOUDFRONT_ENDPOINT", { optional: true, description: "CloudFront API endpoint override (the local twin and tests)" }),
  callerIdentity: string("CALLER_IDENTITY_SOURCE", {
    optional: true,
    pattern: `^(${CALLER_IDENTITY.lambda}|${CALLER_IDENTITY.iam}|${CALLER_IDENTITY.cognitoPrefix}[A-Za-z0-9_:.-]{1,128})$`,
    patternText: "lambda, iam, or cognito:<claim>",
    description: "where API Gateway puts the verified caller of `caller` routes (set by `CacheApi`'s authorization); unset: those routes answer 401",
  }),
} as const;

/** The health route every handler on the runtime serves: reachability of cache and table, never cached. */
export const HEALTH_ROUTE = {
  name: "health",
  method: "GET",
  path: "/health",
  summary: "reachability of the cache and the table (200 while the table answers)",
  access: "public",
  cached: false,
} as const satisfies RouteSpec;
