/**
 * A warm function for a cache-aside function: it loads a key set into the same cache, through the
 * same cache-aside read (lease, then fill only while the lease holds), so it can run while traffic
 * and writes do. Run it after a deploy, on a schedule (EventBridge Scheduler), or by hand
 * (`npm run warm`):
 *
 *   new CacheWarmer(this, "warmer", { function: fn, table, cache, top: 100, schedule: "rate(1 hour)" });
 */
import { LambdaInvocation } from "@cdktf/provider-aws/lib/lambda-invocation";
import { SchedulerSchedule } from "@cdktf/provider-aws/lib/scheduler-schedule";
import { Construct } from "constructs";
import { createHash } from "crypto";
import { MAX_WARM_IDS, RUNTIME_SETTINGS, WarmerContract, WARMER_SETTINGS } from "../../functions/lib/contract";
import { WARMERS } from "../../functions/warmer/contract";
import { physicalName } from "../core/naming";
import { Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import { CacheAsideFunction } from "../function";
import { Role } from "../iam";
import type { ICache } from "../redis";
import type { ITable } from "../table";

export { PRODUCTS_WARMER, WARMERS } from "../../functions/warmer/contract";
export { defineWarmer, MAX_WARM_IDS, WARMER_SETTINGS } from "../../functions/lib/contract";
export type { WarmerContract } from "../../functions/lib/contract";

/** Props of {@link CacheWarmer}. */
export interface CacheWarmerProps {
  /** The function whose cache is warmed: its network, key prefix, TTLs and lease settings are the warm function's. */
  readonly function: CacheAsideFunction;
  /** The table the function reads (read access only). */
  readonly table: ITable;
  /** The cache the function uses. */
  readonly cache: ICache;
  /**
   * The warm function's contract (`defineWarmer(contract, { entry, rankIndex })`); its `fronts` must be the function's contract.
   * @default the shipped one of the function's contract (`PRODUCTS_WARMER`)
   */
  readonly warmer?: WarmerContract;
  /**
   * The key set of scheduled and after-deploy runs: these ids. Unset: the first `top` of ranking `rankList`.
   * @default none (the top N)
   */
  readonly ids?: readonly string[];
  /**
   * How many of the ranking's first ids a run without ids loads (0–10000).
   * @default 100
   */
  readonly top?: number;
  /**
   * The ranking the top N are read from (the contract's rank index partition).
   * @default "bestsellers"
   */
  readonly rankList?: string;
  /**
   * When to run, as EventBridge Scheduler writes it: `rate(1 hour)`, `cron(0 6 * * ? *)`.
   * @default none: no schedule
   */
  readonly schedule?: string;
  /**
   * Run once at every apply that changes the function's code or the key set (Terraform invokes it
   * after the function exists); a failed run fails the apply.
   * @default false
   */
  readonly runAfterDeploy?: boolean;
  /**
   * Keys loaded at once (1–256).
   * @default 16
   */
  readonly concurrency?: number;
  /**
   * Timeout in seconds (10–900): a run of N keys takes about N ÷ concurrency table reads.
   * @default 300
   */
  readonly timeoutSeconds?: number;
  /**
   * Days to keep the function's logs.
   * @default 90 in prod, 14 in dev
   */
  readonly logRetentionDays?: number;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

const SCHEDULE_RE = /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\)|at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\))$/;
/** EventBridge Scheduler's limit on a target's input. */
const MAX_INPUT_CHARS = 8_192;
/** The fronted function's settings the warm function does not take (it needs no L1 of its own). */
const NOT_SHARED = new Set<string>(["l1TtlMs", "l1MaxEntries", "l1MaxBytes"]);

/** A warm function in the fronted function's network, with an optional schedule and an after-deploy run. */
export class CacheWarmer extends Construct {
  /** The warm function (the contract's entry, in the fronted function's network, read-only on the table). */
  public readonly function: CacheAsideFunction<WarmerContract>;
  /** The schedule, when one is set. */
  public readonly schedule?: SchedulerSchedule;
  /** The role the schedule invokes the function with (lambda:InvokeFunction on it only). */
  public readonly scheduleRole?: Role;
  /** The run at apply time, when `runAfterDeploy` is on. */
  public readonly afterDeploy?: LambdaInvocation;
  /** The event of scheduled and after-deploy runs (`{ ids }` or `{ top, list }`), as JSON. */
  public readonly input: string;
  /** @attribute Name of the warm function. */
  public readonly functionName: string;

  constructor(scope: Construct, id: string, props: CacheWarmerProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const fn = props.function;
    const contract = props.warmer ?? WARMERS.find((w) => w.fronts === fn.contract);
    const top = props.top ?? WARMER_SETTINGS.warmTop.default;
    const list = props.rankList ?? WARMER_SETTINGS.warmRankList.default;
    this.input = JSON.stringify(props.ids ? { ids: [...props.ids] } : { top, list });

    const v = PropsValidator.for(this);
    v.check(contract !== undefined, "warmer", undefined,
      `a warm function contract for ${fn.node.path}'s contract ${fn.contract.name}: defineWarmer(<its contract>, { entry }) ` +
        `(shipped: ${WARMERS.map((w) => w.fronts.name).join(", ")})`);
    if (contract) {
      v.check(contract.fronts === fn.contract, "warmer.fronts", contract.fronts.name, `the contract of ${fn.node.path} (${fn.contract.name})`);
      v.check(props.ids !== undefined || top === 0 || contract.rankIndex !== undefined, "top", top,
        `0, or ids: contract ${fn.contract.name} has no rank index to read a top N from`);
      const want = contract.rankIndex;
      if (want && props.ids === undefined && top > 0) {
        const key = (k?: { name: string; type: string }) => (k ? `${k.name} (${k.type})` : "none");
        const have = props.table.globalSecondaryIndexes.find((g) => g.indexName === want.indexName);
        v.check(!!have && key(have.partitionKey) === key(want.partitionKey) && key(have.sortKey) === key(want.sortKey), "table.globalSecondaryIndexes",
          props.table.globalSecondaryIndexes.map((g) => g.indexName),
          `an index ${want.indexName} on ${key(want.partitionKey)} / ${key(want.sortKey)}, which a top-N run reads (or warm ids, or top 0)`);
      }
    }
    v.check(props.ids === undefined || (props.ids.length >= 1 && props.ids.length <= MAX_WARM_IDS), "ids", props.ids?.length,
      `1 to ${MAX_WARM_IDS} ids`);
    v.check(this.input.length <= MAX_INPUT_CHARS, "ids", `${this.input.length} characters of JSON`,
      `at most ${MAX_INPUT_CHARS} characters of JSON (EventBridge Scheduler's input limit): rank the products and warm the top N instead`);
    v.matches("schedule", props.schedule, SCHEDULE_RE, "rate(<n> minutes|hours|days), cron(<6 fields>) or at(yyyy-mm-ddThh:mm:ss)");
    v.intRange("timeoutSeconds", props.timeoutSeconds, 10, 900);
    v.throwIfAny();

    const shared = Object.fromEntries(Object.keys(RUNTIME_SETTINGS)
      .filter((k) => !NOT_SHARED.has(k) && fn.settings[k] !== undefined).map((k) => [k, fn.settings[k]]));
    this.function = new CacheAsideFunction(this, "function", {
      network: fn.network,
      contract: contract!,
      settings: { ...shared, warmTop: top, warmRankList: list, warmConcurrency: props.concurrency },
      timeoutSeconds: props.timeoutSeconds ?? 300,
      memorySize: 256,
      logRetentionDays: props.logRetentionDays,
      profile,
    });
    this.function.useTable(props.table).useCache(props.cache);
    this.functionName = this.function.functionName;

    if (props.schedule) {
      this.scheduleRole = new Role(this, "schedule-role", { assumedBy: "scheduler.amazonaws.com", description: `Runs the warm function of ${this.node.path}` });
      this.scheduleRole.addToPrincipalPolicy("invoke-warm-function", [{ actions: ["lambda:InvokeFunction"], resources: [this.function.functionArn] }]);
      this.schedule = new SchedulerSchedule(this, "schedule", {
        name: physicalName(this, 64),
        description: `Warms the cache of ${fn.node.path}`,
        scheduleExpression: props.schedule,
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: this.function.functionArn,
          roleArn: this.scheduleRole.roleArn,
          input: this.input,
          // The next run warms again; a failed one is in the function's logs and Errors metric.
          retryPolicy: { maximumRetryAttempts: 0 },
        },
        dependsOn: [this.scheduleRole.policyResource("invoke-warm-function")!],
      });
    }
    if (props.runAfterDeploy) {
      this.afterDeploy = new LambdaInvocation(this, "after-deploy", {
        functionName: this.function.functionName,
        input: this.input,
        triggers: { code: this.function.bundle.sha256Hex, keys: createHash("sha256").update(this.input).digest("hex") },
      });
    }
  }
}
