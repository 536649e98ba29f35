/**
 * The warm functions of the handlers this package ships. `CacheWarmer` picks the one whose
 * `fronts` is the function it is given.
 */
import { defineWarmer } from "../lib/contract";
import { PRODUCT_RANK_INDEX, PRODUCTS } from "../products/contract";

/** Loads products into the product function's cache: ids, or the top N of a ranking (index `by-rank`). */
export const PRODUCTS_WARMER = defineWarmer(PRODUCTS, { entry: "functions/warmer/products.ts", rankIndex: PRODUCT_RANK_INDEX });

/** Every warm function the package ships. */
export const WARMERS = [PRODUCTS_WARMER] as const;
