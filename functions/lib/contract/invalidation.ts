/**
 * Stream invalidators in the contract language. An invalidator is a function of its own, consuming
 * a table's change stream and invalidating the cache entries of the function that fronts the
 * table; its contract names that function's contract (`fronts`), whose table layout and
 * `cacheKeysOf` are the mapping from a changed item to the cache keys it makes stale:
 *
 *   export const PRICES_INVALIDATOR = defineInvalidator(PRICES, { entry: path.join(__dirname, "invalidator.ts") });
 *   // invalidator.ts
 *   export const { handler } = defineStreamInvalidator(PRICES_INVALIDATOR);
 *
 * One invalidator per fronted contract: the mapping is compiled into the invalidator's bundle, so
 * no setting can point it at another contract's keys, and the bundle holds one small contract
 * besides the cache client (no table client, no DAX).
 */
import type { FunctionContract } from "./language";
import { INVALIDATION_METRICS } from "./metrics";
import { INVALIDATOR_SETTINGS } from "./runtime";

/** The contract of a stream invalidator: no routes, the invalidator's settings, and the contract it invalidates for. */
export interface InvalidatorContract<F extends FunctionContract = FunctionContract>
  extends FunctionContract<typeof INVALIDATOR_SETTINGS, readonly []> {
  /** The function whose cache entries go stale when its table changes: its `table` and `cacheKeysOf` are the mapping. */
  readonly fronts: F;
}

/**
 * The contract of the stream invalidator of `fronts`, bundled from `opts.entry` (a module built
 * with `defineStreamInvalidator`). `fronts` must declare its table layout and `cacheKeysOf`.
 */
export function defineInvalidator<F extends FunctionContract>(fronts: F, opts: { readonly entry: string }): InvalidatorContract<F> {
  if (!fronts.table) throw new Error(`contract ${fronts.name} declares no table: a stream invalidator maps a table's keys`);
  if (!fronts.cacheKeysOf) {
    throw new Error(`contract ${fronts.name} declares no cacheKeysOf: a stream record could not be mapped to the cache keys it makes stale`);
  }
  return {
    name: `${fronts.name}-invalidator`,
    entry: opts.entry,
    description: `Invalidates the cache entries of ${fronts.name} when its table changes (DynamoDB stream)`,
    routes: [],
    settings: INVALIDATOR_SETTINGS,
    table: fronts.table,
    metrics: INVALIDATION_METRICS,
    fronts,
  };
}
