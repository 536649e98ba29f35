/**
 * Cache invalidation no writer can bypass: the table's DynamoDB stream drives an invalidator
 * function that deletes what each change makes stale, whoever wrote (another service, the
 * console, a TTL expiry) and whether or not the cache answered at write time:
 *
 *   const invalidator = new StreamInvalidator(this, "invalidator", { function: fn, table, cache });
 *
 * The write path keeps its own invalidation (read-your-writes); the stream is the guarantee.
 */
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import type { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { CONNECTIONS, FunctionContract, InvalidatorContract, RUNTIME_SETTINGS } from "../../functions/lib/contract";
import { INVALIDATORS } from "../../functions/invalidator/contract";
import { customerKey } from "../core/kms";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import { CacheAsideFunction } from "../function";
import type { ICache } from "../redis";
import type { IStreamTable } from "../table";

export { INVALIDATORS, PRODUCTS_INVALIDATOR, SESSIONS_INVALIDATOR } from "../../functions/invalidator/contract";
export { defineInvalidator } from "../../functions/lib/contract";
export type { InvalidatorContract } from "../../functions/lib/contract";

/** Props of {@link StreamInvalidator}. */
export interface StreamInvalidatorProps {
  /**
   * The cache-aside function whose entries go stale when `table` changes. The invalidator runs in
   * its network and takes from it what must agree: the contract's key mapping, the service name,
   * key prefix and metrics namespace, and the cache command timeout and breaker threshold.
   */
  readonly function: CacheAsideFunction;
  /** The table whose stream is read; its stream is turned on (`KEYS_ONLY` unless it has a view type). */
  readonly table: IStreamTable;
  /** The cache holding the function's entries. */
  readonly cache: ICache;
  /**
   * The invalidator's contract (`defineInvalidator(contract, { entry })`); its `fronts` must be the
   * function's contract.
   * @default the shipped invalidator of the function's contract (`PRODUCTS_INVALIDATOR`, `SESSIONS_INVALIDATOR`)
   */
  readonly invalidator?: InvalidatorContract;
  /**
   * Records per invocation (1–10000).
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * Seconds Lambda may wait to fill a batch (0–300): every second here is a second more of staleness.
   * @default 0 (invoke as soon as records are read)
   */
  readonly maximumBatchingWindowSeconds?: number;
  /**
   * Retries of a failed batch before its records go to the on-failure queue (0–10000). During a
   * cache outage each attempt waits up to `cacheWaitMs` inside the invocation first.
   * @default 10
   */
  readonly maximumRetryAttempts?: number;
  /**
   * Age (60–604800 s) past which records go to the on-failure queue instead of the function.
   * @default the longest an entry the change made stale can live: the function's lease plus its
   * TTL with full jitter (or its negative TTL, if longer), plus 1 s for the record's whole-second
   * timestamp, at least 60; an older change has nothing left to invalidate
   */
  readonly maximumRecordAgeSeconds?: number;
  /**
   * Batches processed at once per stream shard (1–10); changes to one item stay in order.
   * @default 2 in prod (a slow batch does not hold back the shard's other keys), 1 in dev
   */
  readonly parallelizationFactor?: number;
  /**
   * Longest one invocation waits for an unreachable cache before it reports the record for
   * Lambda to retry (ms, 0 up to the timeout less 2 s).
   * @default 20000
   */
  readonly cacheWaitMs?: number;
  /**
   * How long the invalidator's circuit stays open before it probes the cache again (ms,
   * 100–600000). It waits for the cache instead of falling back, so it probes often.
   * @default 500
   */
  readonly breakerCooldownMs?: number;
  /**
   * Function timeout in seconds (3–900).
   * @default 30
   */
  readonly timeoutSeconds?: number;
  /**
   * Function memory in MB (128–10240): the work is a few cache round trips per record.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Days the on-failure queue keeps a record of what could not be invalidated (1–14, SQS's maximum).
   * @default 14
   */
  readonly queueRetentionDays?: number;
  /**
   * Customer-managed KMS key ARN that encrypts the on-failure queue.
   * @default a key created for the queue, rotation on
   */
  readonly kmsKeyArn?: string;
  /**
   * Days to keep the invalidator's logs.
   * @default 90 in prod, 14 in dev
   */
  readonly logRetentionDays?: number;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

/** Runtime settings the invalidator must share with the function whose entries it deletes. */
const SHARED_SETTINGS = ["serviceName", "keyPrefix", "metricsNamespace", "cacheCommandTimeoutMs", "breakerFailureThreshold", "breakerWindowMs", "logLevel"] as const;

const KMS_KEY_ARN_RE = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/**
 * A DynamoDB stream consumer that invalidates a cache-aside function's entries: a Lambda in the
 * function's VPC (bundled and wired like any `CacheAsideFunction`, with `useCache`), an event
 * source mapping that reports partial batch failures, bisects failed batches, bounds retries and
 * record age, and sends what it gave up on to a KMS-encrypted SQS queue; IAM scoped to that stream
 * and that queue. `CacheObservability` alarms on its iterator age, queue depth and errors.
 */
export class StreamInvalidator extends Construct {
  /** The invalidator function (its contract's entry, in the fronted function's network). */
  public readonly function: CacheAsideFunction<InvalidatorContract>;
  /** The function whose entries it invalidates. */
  public readonly fronts: CacheAsideFunction;
  /** The Terraform `aws_lambda_event_source_mapping` reading the stream. */
  public readonly mapping: LambdaEventSourceMapping;
  /** The on-failure destination: a record per batch Lambda gave up on (metadata, not the records). */
  public readonly queue: SqsQueue;
  /** The queue's key, when this construct created it. */
  public readonly key?: KmsKey;
  /** @attribute ARN of the table's stream. */
  public readonly streamArn: string;
  /** @attribute ARN of the on-failure queue. */
  public readonly queueArn: string;
  /** @attribute URL of the on-failure queue. */
  public readonly queueUrl: string;
  /** @attribute Name of the on-failure queue (the `QueueName` dimension of its metrics). */
  public readonly queueName: string;
  /** @attribute Name of the invalidator function. */
  public readonly functionName: string;
  /** Records per invocation, after defaults. */
  public readonly batchSize: number;
  /** Batching window in seconds, after defaults. */
  public readonly maximumBatchingWindowSeconds: number;
  /** Retries before the on-failure queue, after defaults. */
  public readonly maximumRetryAttempts: number;
  /** Record age limit in seconds, after defaults. */
  public readonly maximumRecordAgeSeconds: number;
  /** Concurrent batches per shard, after defaults. */
  public readonly parallelizationFactor: number;

  constructor(scope: Construct, id: string, props: StreamInvalidatorProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const fn = props.function;
    const contract = props.invalidator ?? INVALIDATORS.find((i) => i.fronts === fn.contract);
    const timeout = props.timeoutSeconds ?? 30;
    const cacheWaitMs = props.cacheWaitMs ?? 20_000;
    const retentionDays = props.queueRetentionDays ?? 14;

    const v = PropsValidator.for(this);
    v.check(contract !== undefined, "invalidator", undefined,
      `an invalidator contract for ${fn.node.path}'s contract ${fn.contract.name}: defineInvalidator(<its contract>, { entry }) ` +
        `(shipped: ${INVALIDATORS.map((i) => i.fronts.name).join(", ")})`);
    if (contract) {
      v.check(contract.fronts === fn.contract, "invalidator.fronts", contract.fronts.name,
        `the contract of ${fn.node.path} (${fn.contract.name}): the mapping must be the one its entries were written with`);
    }
    checkKeys(v, props.table, fn.contract);
    v.intRange("batchSize", props.batchSize, 1, 10_000)
      .intRange("maximumBatchingWindowSeconds", props.maximumBatchingWindowSeconds, 0, 300)
      .intRange("maximumRetryAttempts", props.maximumRetryAttempts, 0, 10_000)
      .intRange("maximumRecordAgeSeconds", props.maximumRecordAgeSeconds, 60, 604_800)
      .intRange("parallelizationFactor", props.parallelizationFactor, 1, 10)
      .intRange("timeoutSeconds", timeout, 3, 900)
      .intRange("cacheWaitMs", cacheWaitMs, 0, Math.max(0, (timeout - 2) * 1000))
      .intRange("breakerCooldownMs", props.breakerCooldownMs, 100, 600_000)
      .intRange("queueRetentionDays", retentionDays, 1, 14)
      .matches("kmsKeyArn", props.kmsKeyArn, KMS_KEY_ARN_RE, "a KMS key ARN, arn:aws:kms:<region>:<account>:key/<id>");
    v.throwIfAny();

    this.fronts = fn;
    this.batchSize = props.batchSize ?? 100;
    this.maximumBatchingWindowSeconds = props.maximumBatchingWindowSeconds ?? 0;
    this.maximumRetryAttempts = props.maximumRetryAttempts ?? 10;
    this.maximumRecordAgeSeconds = props.maximumRecordAgeSeconds ?? longestEntryLifeSeconds(fn);
    this.parallelizationFactor = props.parallelizationFactor ?? byProfile(profile, { dev: 1, prod: 2 });

    const shared = Object.fromEntries(SHARED_SETTINGS.filter((k) => fn.settings[k] !== undefined).map((k) => [k, fn.settings[k]]));
    this.function = new CacheAsideFunction(this, "function", {
      network: fn.network,
      contract: contract!,
      settings: { ...shared, breakerCooldownMs: props.breakerCooldownMs ?? 500, cacheWaitMs },
      timeoutSeconds: timeout,
      memorySize: props.memorySize ?? 256,
      logRetentionDays: props.logRetentionDays,
      profile,
    });
    // The table whose stream this is: the runtime refuses records of any other table's stream.
    this.function.useCache(props.cache).addEnvironment(CONNECTIONS.tableName.env, props.table.tableName);
    this.functionName = this.function.functionName;

    // --- on-failure queue, under a key of our own unless one is given
    const base = physicalName(this, 70);
    let keyArn = props.kmsKeyArn;
    if (!keyArn) {
      // IAM policies grant its use (the invalidator's role sends; operators read).
      this.key = customerKey(this, "key", { description: `Encrypts the on-failure queue of ${this.node.path}`, arnInStack: this.function.role.roleArn, profile });
      new KmsAlias(this, "key-alias", { name: `alias/${base}`, targetKeyId: this.key.keyId });
      keyArn = this.key.arn;
    }
    this.queue = new SqsQueue(this, "queue", {
      name: `${base}-failures`,
      kmsMasterKeyId: keyArn,
      kmsDataKeyReusePeriodSeconds: 300,
      messageRetentionSeconds: retentionDays * 86_400,
    });
    this.queueArn = this.queue.arn;
    this.queueUrl = this.queue.url;
    this.queueName = this.queue.name;
    new SqsQueuePolicy(this, "queue-policy", {
      queueUrl: this.queue.url,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [{
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "sqs:*",
          Resource: this.queue.arn,
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }],
      }),
    });

    // --- permissions the mapping uses (it polls with the function's role), then the mapping
    this.streamArn = props.table.enableStream();
    props.table.grantStreamRead(this.function);
    this.function.role.addToPrincipalPolicy("on-failure-destination", [
      { actions: ["sqs:SendMessage"], resources: [this.queue.arn] },
      { actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [keyArn] },
    ]);
    const role = this.function.role;
    this.mapping = new LambdaEventSourceMapping(this, "mapping", {
      eventSourceArn: this.streamArn,
      functionName: this.function.functionArn,
      startingPosition: "LATEST",
      batchSize: this.batchSize,
      maximumBatchingWindowInSeconds: this.maximumBatchingWindowSeconds,
      parallelizationFactor: this.parallelizationFactor,
      maximumRetryAttempts: this.maximumRetryAttempts,
      maximumRecordAgeInSeconds: this.maximumRecordAgeSeconds,
      bisectBatchOnFunctionError: true,
      functionResponseTypes: ["ReportBatchItemFailures"],
      destinationConfig: { onFailure: { destinationArn: this.queue.arn } },
      // Lambda checks at creation that the role can read the stream and send to the destination.
      dependsOn: role.policyNames.map((n) => role.policyResource(n)!),
    });
  }
}

/** Fails synthesis when the table's keys are not the ones the fronted contract maps. */
function checkKeys(v: PropsValidator, table: IStreamTable, contract: FunctionContract): void {
  const want = contract.table;
  const key = (k?: { name: string; type: string }) => (k ? `${k.name} (${k.type})` : "none");
  v.check(!!want && key(table.partitionKey) === key(want.partitionKey) && key(table.sortKey) === key(want.sortKey),
    "table", `${key(table.partitionKey)} / ${key(table.sortKey)}`,
    `a table keyed ${key(want?.partitionKey)} / ${key(want?.sortKey)}, the layout contract ${contract.name} maps to cache keys`);
}

/**
 * Seconds an entry made stale by a change can outlive it: a reader that loaded before the change
 * fills at most a lease later, and the entry lives its TTL with full jitter (or the negative TTL).
 */
function longestEntryLifeSeconds(fn: CacheAsideFunction): number {
  const s = fn.settings;
  const num = (k: keyof typeof RUNTIME_SETTINGS) => Number(s[k] ?? RUNTIME_SETTINGS[k].default);
  const ttl = Math.max(num("ttlSeconds") * (1 + num("ttlJitterRatio")), num("negativeTtlSeconds"));
  return Math.min(604_800, Math.max(60, Math.ceil(ttl + num("leaseTtlMs") / 1000) + 1));
}
