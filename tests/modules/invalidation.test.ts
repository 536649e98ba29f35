/**
 * StreamInvalidator: the table's stream turned on (KEYS_ONLY), the event source mapping (partial
 * batch responses, bisection, bounded retries and record age, the on-failure destination), the
 * KMS-encrypted queue, IAM scoped to that stream, queue and key, the settings shared with the
 * fronted function, its alarms and dashboard section, and one synth-time error per rule.
 */
import { Testing } from "cdktf";
import { Construct } from "constructs";
import { CONNECTIONS, INVALIDATOR_SETTINGS, METRIC, RUNTIME_SETTINGS, STREAM_ROUTE } from "../../functions/lib/contract";
import { CacheApi } from "../../modules/api";
import { Authorization } from "../../modules/authorization";
import { PropsValidationError } from "../../modules/core/validation";
import { CacheAsideFunction, FunctionSettings } from "../../modules/function";
import { defineInvalidator, PRODUCTS_INVALIDATOR, SESSIONS_INVALIDATOR, StreamInvalidator, StreamInvalidatorProps } from "../../modules/invalidation";
import { Network } from "../../modules/network";
import { CacheObservability } from "../../modules/observability";
import { RedisCache } from "../../modules/redis";
import { CacheTable, CacheTableProps } from "../../modules/table";
import { PRODUCTS, PRODUCTS_TABLE, SESSIONS, SESSIONS_TABLE } from "../../modules";
import { decodeJsonencode, onlyResource, resourcesOf, rolePolicies, SynthJson, testStack } from "../helpers/synth";
import { Profile } from "../../modules/core/profile";

const AZS = ["us-east-1a", "us-east-1b"];

interface Options {
  readonly props?: Partial<StreamInvalidatorProps>;
  readonly settings?: FunctionSettings;
  readonly table?: Partial<CacheTableProps>;
  readonly profile?: Profile;
  readonly observe?: boolean;
}

function build(scope: Construct, o: Options = {}) {
  const network = new Network(scope, "network", { availabilityZones: AZS });
  const table = new CacheTable(scope, "products", { ...PRODUCTS_TABLE, ...o.table });
  const cache = new RedisCache(scope, "cache", { network });
  const fn = new CacheAsideFunction(scope, "fn", { network, contract: PRODUCTS, settings: o.settings ?? { serviceName: "product-catalog" } });
  fn.useTable(table, { write: true }).useCache(cache);
  const inv = new StreamInvalidator(scope, "invalidator", { function: fn, table, cache, ...o.props });
  if (o.observe) {
    const api = new CacheApi(scope, "api", { functions: [fn], authorization: Authorization.iam() });
    new CacheObservability(scope, "observability", { api, function: fn, table, cache, invalidator: inv });
  }
  return { table, fn, inv, cache };
}

function synth(o: Options = {}): { json: SynthJson; built: ReturnType<typeof build> } {
  const { stack } = testStack(o.profile ?? "prod");
  const built = build(stack, o);
  return { json: JSON.parse(Testing.synth(stack)), built };
}

const ref = (type: string, json: SynthJson, attr: string) => `\${${type}.${resourcesOf(json, type)[0][0]}.${attr}}`;
const lambdaOf = (json: SynthJson, name: RegExp) => resourcesOf(json, "aws_lambda_function").find(([id]) => name.test(id))![1];

describe("StreamInvalidator", () => {
  const { json, built } = synth();

  test("turns the table's stream on, KEYS_ONLY (invalidation needs the keys only)", () => {
    const t = onlyResource(json, "aws_dynamodb_table");
    expect([t.stream_enabled, t.stream_view_type]).toEqual([true, "KEYS_ONLY"]);
    expect(built.table.streamViewType).toBe("KEYS_ONLY");
  });

  test("keeps a view type the table already has (every view carries the keys)", () => {
    const t = onlyResource(synth({ table: { stream: "NEW_AND_OLD_IMAGES" } }).json, "aws_dynamodb_table");
    expect([t.stream_enabled, t.stream_view_type]).toEqual([true, "NEW_AND_OLD_IMAGES"]);
  });

  test("maps the stream to the invalidator: LATEST, partial batch responses, bisection, bounded retries and age, on-failure queue", () => {
    const m = onlyResource(json, "aws_lambda_event_source_mapping");
    expect(m).toEqual(expect.objectContaining({
      event_source_arn: ref("aws_dynamodb_table", json, "stream_arn"),
      function_name: `\${aws_lambda_function.${resourcesOf(json, "aws_lambda_function").find(([id]) => /invalidator/.test(id))![0]}.arn}`,
      starting_position: "LATEST",
      batch_size: 100,
      maximum_batching_window_in_seconds: 0,
      function_response_types: ["ReportBatchItemFailures"],
      bisect_batch_on_function_error: true,
      maximum_retry_attempts: 10,
      parallelization_factor: 2,
      destination_config: { on_failure: { destination_arn: ref("aws_sqs_queue", json, "arn") } },
    }));
    // 300 s TTL × 1.1 (jitter) + 3 s lease + 1 s (whole-second record times)
    expect(m.maximum_record_age_in_seconds).toBe(334);
    // Lambda checks the role when it creates the mapping: every policy of the role exists first.
    expect(m.depends_on).toHaveLength(built.inv.function.role.policyNames.length);
  });

  test("derives the record age from the function's TTL, jitter, lease and negative TTL, at least 60 s", () => {
    const age = (settings: FunctionSettings) => onlyResource(synth({ settings }).json, "aws_lambda_event_source_mapping").maximum_record_age_in_seconds;
    expect(age({ ttlSeconds: 100, ttlJitterRatio: 0 })).toBe(104);
    expect(age({ ttlSeconds: 10, ttlJitterRatio: 0, negativeTtlSeconds: 10 })).toBe(60);
    expect(age({ ttlSeconds: 20, ttlJitterRatio: 0, negativeTtlSeconds: 120, leaseTtlMs: 10_000 })).toBe(131);
  });

  test("dev runs one batch per shard, prod two", () => {
    expect(onlyResource(synth({ profile: "dev" }).json, "aws_lambda_event_source_mapping").parallelization_factor).toBe(1);
  });

  test("the on-failure queue is encrypted with its own rotating key and refuses plain HTTP", () => {
    const q = onlyResource(json, "aws_sqs_queue");
    expect(q.kms_master_key_id).toBe(ref("aws_kms_key", json, "arn"));
    expect(q.message_retention_seconds).toBe(14 * 86_400);
    expect(onlyResource(json, "aws_kms_key").enable_key_rotation).toBe(true);
    const policy = decodeJsonencode(onlyResource(json, "aws_sqs_queue_policy").policy);
    expect(policy.Statement).toEqual([expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]);
  });

  test("GIVEN a key ARN THEN no key is created and the grants name that key", () => {
    const key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
    const { json: j } = synth({ props: { kmsKeyArn: key } });
    expect(resourcesOf(j, "aws_kms_key")).toHaveLength(0);
    expect(onlyResource(j, "aws_sqs_queue").kms_master_key_id).toBe(key);
    const send = rolePolicies(j).find((p) => p.name === "on-failure-destination")!.doc;
    expect(send.Statement[1]).toEqual({ Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: [key] });
  });

  test("IAM: stream reads on that stream, ListStreams on the table's streams, SendMessage and the key on that queue, no table data", () => {
    const invalidatorRole = ref("aws_iam_role", { resource: { aws_iam_role: Object.fromEntries(resourcesOf(json, "aws_iam_role").filter(([id]) => /invalidator/.test(id))) } }, "id");
    const mine = resourcesOf(json, "aws_iam_role_policy").filter(([, p]) => p.role === invalidatorRole).map(([, p]) => ({ name: p.name, doc: decodeJsonencode(p.policy) }));
    const table = ref("aws_dynamodb_table", json, "arn");
    const statements = mine.flatMap((p) => p.doc.Statement);
    expect(statements).toEqual(expect.arrayContaining([
      { Effect: "Allow", Action: ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"], Resource: [ref("aws_dynamodb_table", json, "stream_arn")] },
      { Effect: "Allow", Action: ["dynamodb:ListStreams"], Resource: [`${table}/stream/*`] },
      { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [ref("aws_sqs_queue", json, "arn")] },
      { Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: [ref("aws_kms_key", json, "arn")] },
    ]));
    const actions = statements.flatMap((s: any) => s.Action as string[]);
    expect(actions.filter((a) => /^dynamodb:(GetItem|PutItem|Query|Scan|UpdateItem|DeleteItem)$/.test(a))).toEqual([]);
  });

  test("GIVEN a table with a customer key THEN the stream grant may decrypt with it", () => {
    const key = "arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555";
    const { json: j } = synth({ table: { kmsKeyArn: key } });
    const read = rolePolicies(j).find((p) => /stream-read$/.test(p.name))!.doc;
    expect(read.Statement).toContainEqual({ Effect: "Allow", Action: ["kms:Decrypt"], Resource: [key] });
  });

  test("the function: the invalidator's bundle in the fronted function's subnets, wired to the cache, with the settings it must share", () => {
    const f = lambdaOf(json, /invalidator/);
    const fronted = lambdaOf(json, /^fn_/);
    expect(f.vpc_config.subnet_ids).toEqual(fronted.vpc_config.subnet_ids);
    expect([f.timeout, f.memory_size]).toEqual([30, 256]);
    const env = f.environment.variables;
    expect(env).toEqual(expect.objectContaining({
      [RUNTIME_SETTINGS.serviceName.env]: "product-catalog",
      [RUNTIME_SETTINGS.metricsNamespace.env]: fronted.environment.variables[RUNTIME_SETTINGS.metricsNamespace.env],
      [RUNTIME_SETTINGS.breakerCooldownMs.env]: "500",
      [INVALIDATOR_SETTINGS.cacheWaitMs.env]: "20000",
      [CONNECTIONS.tableName.env]: ref("aws_dynamodb_table", json, "name"),
      [CONNECTIONS.redisHost.env]: fronted.environment.variables[CONNECTIONS.redisHost.env],
    }));
    expect(built.inv.function.bundle.zipBytes).toBeLessThan(built.fn.bundle.zipBytes / 2);
  });

  test("a key prefix set on the function is the invalidator's too (else its deletes would miss)", () => {
    const { json: j } = synth({ settings: { serviceName: "shop", keyPrefix: "shop-v2" } });
    expect(lambdaOf(j, /invalidator/).environment.variables[RUNTIME_SETTINGS.keyPrefix.env]).toBe("shop-v2");
  });

  test("the session store's function gets the sessions invalidator", () => {
    const { stack } = testStack("dev");
    const network = new Network(stack, "network", { availabilityZones: AZS });
    const table = new CacheTable(stack, "sessions", SESSIONS_TABLE);
    const cache = new RedisCache(stack, "cache", { network });
    const fn = new CacheAsideFunction(stack, "fn", { network, contract: SESSIONS });
    const inv = new StreamInvalidator(stack, "invalidator", { function: fn, table, cache });
    expect(inv.function.contract).toBe(SESSIONS_INVALIDATOR);
    expect(built.inv.function.contract).toBe(PRODUCTS_INVALIDATOR);
  });
});

describe("StreamInvalidator observability", () => {
  const { json } = synth({ observe: true });
  const alarms = resourcesOf(json, "aws_cloudwatch_metric_alarm").map(([, a]) => a);
  const byName = (suffix: string) => alarms.find((a) => a.alarm_name.endsWith(suffix))!;

  test("alarms: iterator age of the invalidator, depth of its queue, its errors plus reported records", () => {
    const age = byName("-invalidation-iterator-age");
    expect([age.namespace, age.metric_name, age.extended_statistic ?? age.statistic, age.threshold]).toEqual(["AWS/Lambda", "IteratorAge", "Maximum", 30_000]);
    const queued = byName("-invalidation-failures-queued");
    expect([queued.namespace, queued.metric_name, queued.dimensions.QueueName, queued.threshold, queued.evaluation_periods])
      .toEqual(["AWS/SQS", "ApproximateNumberOfMessagesVisible", ref("aws_sqs_queue", json, "name"), 0, 1]);
    const errors = byName("-invalidator-errors");
    const metrics = errors.metric_query.filter((q: any) => q.metric).map((q: any) => q.metric);
    expect(metrics.map((m: any) => m.metric_name).sort()).toEqual(["Errors", METRIC.InvalidationFailure].sort());
    expect(metrics.find((m: any) => m.metric_name === METRIC.InvalidationFailure).dimensions).toEqual({ Service: "product-catalog", Route: STREAM_ROUTE });
  });

  test("the dashboard shows the invalidation lag (runtime metric, Route=stream) next to the iterator age and the queue", () => {
    const body = decodeJsonencode(onlyResource(json, "aws_cloudwatch_dashboard").dashboard_body);
    const titles = body.widgets.map((w: any) => w.properties.title);
    expect(titles).toEqual(expect.arrayContaining([expect.stringMatching(/^Invalidation lag/), "Stream iterator age (ms)", expect.stringMatching(/^On-failure queue/)]));
    const lag = body.widgets.find((w: any) => /^Invalidation lag/.test(w.properties.title ?? ""));
    expect(lag.properties.metrics.map((m: any[]) => [m[1], m[3], m[5], m[6].stat])).toEqual([
      [METRIC.InvalidationLag, "product-catalog", STREAM_ROUTE, "p50"],
      [METRIC.InvalidationLag, "product-catalog", STREAM_ROUTE, "p99"],
      [METRIC.InvalidationLag, "product-catalog", STREAM_ROUTE, "Maximum"],
    ]);
  });

  test("an invalidator of another function's entries is refused", () => {
    const { stack } = testStack();
    const { inv, table, cache } = build(stack);
    const network = new Network(stack, "network2", { availabilityZones: AZS });
    const other = new CacheAsideFunction(stack, "other", { network, contract: PRODUCTS });
    other.useTable(table);
    const api = new CacheApi(stack, "api", { functions: [other], authorization: Authorization.iam() });
    expect(() => new CacheObservability(stack, "observability", { api, function: other, table, cache, invalidator: inv }))
      .toThrow(/invalidator = "test\/invalidator": an invalidator of test\/other's entries/);
  });
});

describe("validation: a synth-time error naming path, field, value and what is allowed", () => {
  const invalid = (o: Options, field: string, value: string, allowed: RegExp) => {
    try {
      synth(o);
    } catch (err) {
      expect(err).toBeInstanceOf(PropsValidationError);
      const line = (err as Error).message.split("\n").find((l) => l.includes(`- ${field} = `));
      expect(line).toBeDefined();
      expect(line).toContain(`${field} = ${value}:`);
      expect(line).toMatch(allowed);
      expect((err as Error).message).toMatch(/^Invalid props for test\/invalidator:/);
      return;
    }
    throw new Error("no error");
  };
  test.each([
    ["batchSize", 0, "0", /from 1 to 10000/],
    ["batchSize", 10_001, "10001", /from 1 to 10000/],
    ["maximumBatchingWindowSeconds", 301, "301", /from 0 to 300/],
    ["maximumRetryAttempts", -1, "-1", /from 0 to 10000/],
    ["maximumRecordAgeSeconds", 30, "30", /from 60 to 604800/],
    ["parallelizationFactor", 11, "11", /from 1 to 10/],
    ["timeoutSeconds", 1000, "1000", /from 3 to 900/],
    ["breakerCooldownMs", 50, "50", /from 100 to 600000/],
    ["queueRetentionDays", 15, "15", /from 1 to 14/],
    ["kmsKeyArn", "alias/aws/sqs", '"alias/aws/sqs"', /a KMS key ARN/],
  ] as const)("%s = %p", (field, value, shown, allowed) => invalid({ props: { [field]: value } }, field, shown, allowed));

  test("a cache wait that leaves no time to answer before the timeout", () =>
    invalid({ props: { timeoutSeconds: 10, cacheWaitMs: 9_000 } }, "cacheWaitMs", "9000", /from 0 to 8000/));

  test("a function whose contract has no shipped invalidator, and no invalidator given", () => {
    const { stack } = testStack();
    const network = new Network(stack, "network", { availabilityZones: AZS });
    const table = new CacheTable(stack, "t", PRODUCTS_TABLE);
    const cache = new RedisCache(stack, "cache", { network });
    const fn = new CacheAsideFunction(stack, "fn", { network, contract: { ...PRODUCTS, name: "prices" } });
    expect(() => new StreamInvalidator(stack, "invalidator", { function: fn, table, cache }))
      .toThrow(/invalidator = undefined: an invalidator contract for test\/fn's contract prices: defineInvalidator\(<its contract>, \{ entry \}\) \(shipped: products, sessions\)/);
    // given one, it is built from it
    const own = defineInvalidator(fn.contract, { entry: PRODUCTS_INVALIDATOR.entry });
    expect(new StreamInvalidator(stack, "own", { function: fn, table, cache, invalidator: own }).function.contract).toBe(own);
  });

  test("an invalidator of another contract, and a table the contract does not map, are refused together", () => {
    const { stack } = testStack();
    const network = new Network(stack, "network", { availabilityZones: AZS });
    const table = new CacheTable(stack, "t", SESSIONS_TABLE);
    const cache = new RedisCache(stack, "cache", { network });
    const fn = new CacheAsideFunction(stack, "fn", { network, contract: PRODUCTS });
    expect(() => new StreamInvalidator(stack, "invalidator", { function: fn, table, cache, invalidator: SESSIONS_INVALIDATOR }))
      .toThrow(/invalidator.fronts = "sessions": the contract of test\/fn \(products\)[\s\S]*table = "PK \(S\) \/ SK \(S\)": a table keyed productId \(S\) \/ none/);
  });
});
