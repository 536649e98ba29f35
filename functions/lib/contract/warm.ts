/**
 * Warm functions in the contract language: a function of its own that loads a key set into the
 * cache of the function it fronts, through that function's own cache-aside read (lease, then fill
 * only while the lease holds), so warming can never overwrite a newer write:
 *
 *   export const PRODUCTS_WARMER = defineWarmer(PRODUCTS, { entry: "functions/warmer/products.ts", rankIndex: "by-rank" });
 *
 * The key set is the event's (`{ ids }` or `{ top, list }`) or, for a scheduled run, the settings'
 * top N of a ranking read from an index of the table.
 */
import { FunctionContract, IndexSpec, integer, string } from "./language";
import { METRIC, RUNTIME_METRICS } from "./metrics";

/** Settings of a warm function, on top of the runtime's (key prefix, TTLs, lease: the fronted function's). */
export const WARMER_SETTINGS = {
  warmTop: integer("WARM_TOP_N", {
    default: 100, min: 0, max: 10_000,
    description: "how many of the ranking's first ids a run without ids in its event loads (0: none)",
  }),
  warmRankList: string("WARM_RANK_LIST", {
    default: "bestsellers", pattern: "^.{1,100}$", patternText: "1-100 characters",
    description: "the ranking (the index's partition key value) a run without ids reads its top N from",
  }),
  warmConcurrency: integer("WARM_CONCURRENCY", { default: 16, min: 1, max: 256, description: "keys a warm run loads at once" }),
} as const;

/** Most ids one warm run takes (larger key sets: several runs). */
export const MAX_WARM_IDS = 10_000;

/** The contract of a warm function: no routes, the warmer's settings, and the contract whose cache it fills. */
export interface WarmerContract<F extends FunctionContract = FunctionContract> extends FunctionContract<typeof WARMER_SETTINGS, readonly []> {
  /** The function whose entries are warmed: its cache keys, its loader, its table. */
  readonly fronts: F;
  /**
   * The index a top-N run reads (partition: the ranking's name, sort: the rank, ascending); a table
   * the warm function reads its top N from must have it. None: ids only.
   */
  readonly rankIndex?: IndexSpec;
}

/**
 * The contract of the warm function of `fronts`, bundled from `opts.entry` (a module built with
 * `defineWarmerHandler`). A `rankIndex` needs a sort key: the rank.
 */
export function defineWarmer<F extends FunctionContract>(fronts: F, opts: { readonly entry: string; readonly rankIndex?: IndexSpec }): WarmerContract<F> {
  if (!fronts.table) throw new Error(`contract ${fronts.name} declares no table: a warm function loads from a table`);
  if (opts.rankIndex && !opts.rankIndex.sortKey) throw new Error(`contract ${fronts.name}: rankIndex ${opts.rankIndex.indexName} has no sort key (the rank)`);
  return {
    name: `${fronts.name}-warmer`,
    entry: opts.entry,
    description: `Loads a key set into the cache of ${fronts.name} (lease-safe fill)`,
    routes: [],
    settings: WARMER_SETTINGS,
    table: fronts.table,
    metrics: [...RUNTIME_METRICS.filter((m) => m !== METRIC.L1Hit)],
    fronts,
    rankIndex: opts.rankIndex,
  };
}
