/**
 * Product catalog: cache-aside reads (Redis → DynamoDB, 5-minute TTL with jitter, negative
 * caching), invalidate-on-write, and a health route. API Gateway REST proxy events (v1). Routes,
 * body schema, table layout and cache keys are in ./contract.ts.
 */
import { marshall } from "@aws-sdk/util-dynamodb";
import { CacheStatus, CacheTier } from "../lib/cache-aside";
import { healthRoute } from "../lib/health";
import { toItem } from "../lib/item";
import { json, jsonText, ProxyResult } from "../lib/http";
import { defineHandler, RouteHandler } from "../lib/runtime";
import { validateId } from "../lib/validate";
import { PRODUCT_RESERVED_FIELDS, productCacheKey, PRODUCTS, PRODUCTS_TABLE } from "./contract";
import { Product, readProduct } from "./read";

export type { Product } from "./read";

type Handler = RouteHandler<typeof PRODUCTS.settings>;
const KEY = PRODUCTS_TABLE.partitionKey.name;
const RESERVED = new Set<string>(PRODUCT_RESERVED_FIELDS);

/** Which tier answered; `Cache-Control` is the runtime's (functions/lib/cache-control.ts), from the contract. */
function cacheHeaders(read: { status: CacheStatus; tier: CacheTier }): Record<string, string> {
  return { "x-cache": read.status, "x-cache-tier": read.tier };
}

const getProduct: Handler = async (_e, p, { rt, metrics }) => {
  const id = validateId("productId", p.productId);
  const result = await rt.cache.read<Product>(productCacheKey(id), () => readProduct(rt, id), metrics);
  if (result.json === undefined) {
    return json(404, { error: `product ${id} not found` }, { "x-cache": result.status });
  }
  return jsonText(200, result.json, cacheHeaders(result));
};

const putProduct: Handler = async (_e, p, { rt, metrics, body }): Promise<ProxyResult> => {
  const id = validateId("productId", p.productId);
  const fields = Object.fromEntries(Object.entries(body).filter(([k]) => !RESERVED.has(k)));
  const item: Product = { ...fields, productId: id, updatedAt: new Date().toISOString() };
  const out = await rt.table.putItem({
    TableName: rt.config.tableName,
    Item: toItem(item),
    ReturnValues: "ALL_OLD",
  });
  // Table first, then the cache: the write is durable before any reader can miss on it.
  await rt.cache.invalidate(productCacheKey(id), metrics);
  return json(out.Attributes ? 200 : 201, item);
};

const deleteProduct: Handler = async (_e, p, { rt, metrics }) => {
  const id = validateId("productId", p.productId);
  const out = await rt.table.deleteItem({ TableName: rt.config.tableName, Key: marshall({ [KEY]: id }), ReturnValues: "ALL_OLD" });
  await rt.cache.invalidate(productCacheKey(id), metrics);
  if (!out.Attributes) return json(404, { error: `product ${id} not found` });
  return { statusCode: 204, headers: {}, body: "" };
};

export const { createHandler, handler } = defineHandler(PRODUCTS, { health: healthRoute, getProduct, putProduct, deleteProduct });
