/**
 * The product catalog function's contract: its routes and body schema, the table layout it reads
 * and writes, the cache key of a product and the metrics it emits. The handler is built from it,
 * `CacheAsideFunction` bundles and configures it, `CacheApi` declares its routes and the stream
 * invalidator maps table keys to cache keys with it.
 */
import { defineContract, HEALTH_ROUTE, IndexSpec, JSON_SCHEMA_DRAFT_04, RUNTIME_METRICS, TableSpec } from "../lib/contract";

/** Fields a product item carries besides its body: the key and the time of the last write. */
export const PRODUCT_RESERVED_FIELDS = ["productId", "updatedAt"] as const;

/**
 * The cache key of a product. The table's partition key value is the product id, so the key can be
 * derived from a table key as well as from a request path.
 */
export const productCacheKey = (productId: string): string => `product:${productId}`;

/**
 * The rankings a product may be listed in: `rankList` names the list (e.g. `bestsellers`), `rank`
 * the product's place in it (1 first). The sparse index `by-rank` holds only ranked products; the
 * warm function reads the top N of a list from it (the handler never queries it).
 */
export const PRODUCT_RANKING = { indexName: "by-rank", list: "rankList", rank: "rank" } as const;

/** The index of {@link PRODUCT_RANKING}: keys only, ranked products only. */
export const PRODUCT_RANK_INDEX = {
  indexName: PRODUCT_RANKING.indexName,
  partitionKey: { name: PRODUCT_RANKING.list, type: "S" },
  sortKey: { name: PRODUCT_RANKING.rank, type: "N" },
  projection: "KEYS_ONLY",
} as const satisfies IndexSpec;

/** Body of `PUT /products/{productId}` (JSON Schema draft-04, as API Gateway models require). */
export const PRODUCT_SCHEMA = {
  $schema: JSON_SCHEMA_DRAFT_04,
  title: "Product",
  type: "object",
  required: ["name", "price"],
  properties: {
    name: { type: "string", minLength: 1, maxLength: 200 },
    price: { type: "number", minimum: 0 },
    currency: { type: "string", pattern: "^[A-Z]{3}$" },
    category: { type: "string", maxLength: 100 },
    description: { type: "string", maxLength: 4000 },
    // Index keys: DynamoDB refuses an item whose index key has another type, or is an empty string.
    [PRODUCT_RANKING.list]: { type: "string", minLength: 1, maxLength: 100 },
    [PRODUCT_RANKING.rank]: { type: "integer", minimum: 1, maximum: 1000000 },
  },
  // Further attributes are stored as given, under names DynamoDB and the docs can show plainly.
  patternProperties: { "^[A-Za-z][A-Za-z0-9_]{0,63}$": {} },
  additionalProperties: false,
} as const;

/** The resource of one product. */
const PRODUCT_PATH = "/products/{productId}";

/** The products table: one item per product, keyed by its id. */
export const PRODUCTS_TABLE = { partitionKey: { name: "productId", type: "S" } } as const satisfies TableSpec;

/** The products table with the ranking index the warm function reads its top N from (the product catalog stack's). */
export const PRODUCTS_RANKED_TABLE = { ...PRODUCTS_TABLE, globalSecondaryIndexes: [PRODUCT_RANK_INDEX] } as const satisfies TableSpec;

/** The product catalog function (`functions/products/handler.ts`). */
export const PRODUCTS = defineContract({
  name: "products",
  entry: "functions/products/handler.ts",
  description: "Product catalog: cache-aside reads, invalidate-on-write",
  routes: [
    HEALTH_ROUTE,
    {
      name: "getProduct", method: "GET", path: PRODUCT_PATH, summary: "a product, read through the cache", access: "public", cached: true,
      publicReason: "a catalog is public: products hold no customer data",
    },
    // Writes need a verified caller: an API key names an application, it does not prove who calls.
    { name: "putProduct", method: "PUT", path: PRODUCT_PATH, summary: "creates or replaces a product, then invalidates its cache entry", access: "caller", cached: false, body: PRODUCT_SCHEMA },
    { name: "deleteProduct", method: "DELETE", path: PRODUCT_PATH, summary: "deletes a product, then invalidates its cache entry", access: "caller", cached: false },
  ],
  settings: {},
  table: PRODUCTS_TABLE,
  cacheKeysOf: (keys) => {
    const id = keys[PRODUCTS_TABLE.partitionKey.name];
    return typeof id === "string" ? [productCacheKey(id)] : [];
  },
  metrics: [...RUNTIME_METRICS],
});
