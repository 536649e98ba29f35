/**
 * Product catalog: API Gateway → Lambda → Redis (cache-aside, 5-min TTL) → DynamoDB,
 * optionally with DAX between the function and the table.
 */
import { Construct } from "constructs";
import {
  CacheApi, CacheAsideFunction, CacheEdge, CacheObservability, CacheTable, CacheWarmer, DaxCluster, EdgeInvalidator, ICache, PRODUCTS, PRODUCTS_RANKED_TABLE,
  StreamInvalidator,
} from "../modules";
import { CacheStack, CacheStackProps } from "./base";

/**
 * The product catalog stack: API Gateway → Lambda (`functions/products`) → Redis/Valkey cache-aside (5-minute TTL) →
 * DynamoDB `productId` table, DAX in between when `productCatalog.dax` is on, the table's stream invalidating the
 * cache whoever writes, with its dashboard, alarms and outputs
 * (see `CacheStack.observeAndExport`).
 */
export class ProductCatalogStack extends CacheStack {
  /** The products table (the contract's layout: partition key `productId`). */
  public readonly table: CacheTable;
  /** The Redis/Valkey cache. */
  public readonly cache: ICache;
  /** The product function (`functions/products/handler.ts`). */
  public readonly fn: CacheAsideFunction<typeof PRODUCTS>;
  /** The REST API: every route of the product contract (writes need the API key). */
  public readonly api: CacheApi;
  /** Dashboard, alarm topic and (in prod) alarms. */
  public readonly observability: CacheObservability;
  /** The DAX cluster, when `productCatalog.dax` is on. */
  public readonly dax?: DaxCluster;
  /** Invalidates `product:<id>` from the table's stream, whoever wrote the item. */
  public readonly invalidator: StreamInvalidator;
  /** CloudFront in front of the API, when `productCatalog.edge` is on (default in prod). */
  public readonly edge?: CacheEdge;
  /** Drops `/products/<id>` at the edge when the item changes (when `productCatalog.edge.invalidateOnWrite` is on). */
  public readonly edgeInvalidator?: EdgeInvalidator;
  /** The warm function, unless `productCatalog.warm` is off. */
  public readonly warmer?: CacheWarmer;

  constructor(scope: Construct, id: string, props: CacheStackProps) {
    super(scope, id, props);
    const cfg = this.config;
    this.table = new CacheTable(this, "products", PRODUCTS_RANKED_TABLE); // the warm function's top N: the by-rank index
    this.cache = this.serviceCache();

    this.fn = this.serviceFunction(PRODUCTS, { ttlSeconds: cfg.cache?.productTtlSeconds });
    this.fn.useTable(this.table, { write: true }).useCache(this.cache);
    this.invalidator = this.streamInvalidator(this.table, this.fn, this.cache);
    if (cfg.productCatalog?.dax) {
      this.dax = this.daxCluster([this.table]);
      this.fn.useDax(this.dax);
    }
    this.api = this.serviceApi(this.fn);
    const logRetentionDays = cfg.logRetentionDays;
    const edge = cfg.productCatalog?.edge ?? cfg.name === "prod";
    if (edge !== false) {
      const { invalidateOnWrite, ...settings } = edge === true ? {} : edge;
      this.edge = new CacheEdge(this, "edge", { api: this.api, ...settings });
      if (invalidateOnWrite) this.edgeInvalidator = new EdgeInvalidator(this, "edge-invalidator", { edge: this.edge, function: this.fn, table: this.table, logRetentionDays });
    }
    const warm = cfg.productCatalog?.warm;
    if (warm !== false) this.warmer = new CacheWarmer(this, "warmer", { function: this.fn, table: this.table, cache: this.cache, ...warm, logRetentionDays });
    this.observability = this.observeAndExport(this);
  }
}
