/**
 * Product catalog: cache-aside reads (Redis → DynamoDB, 5-minute TTL with jitter, negative
 * caching), invalidate-on-write, and a health route. API Gateway REST proxy events (v1).
 */
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { CacheStatus } from "../lib/cache-aside";
import { json, jsonText, ProxyEvent, ProxyResult } from "../lib/http";
import { health } from "../lib/health";
import { defineHandler, RequestContext, Runtime } from "../lib/runtime";
import { checkFields, FieldRule, parseJsonBody, validateId } from "../lib/validate";

export type Product = Record<string, unknown> & { productId: string };

/** Mirrors the API's request model (stacks/schemas.ts) for requests that bypass API Gateway. */
const PRODUCT_FIELDS: Record<string, FieldRule> = {
  name: { type: "string", required: true, minLength: 1, maxLength: 200 },
  price: { type: "number", required: true, min: 0 },
  currency: { type: "string", pattern: /^[A-Z]{3}$/ },
  category: { type: "string", maxLength: 100 },
  description: { type: "string", maxLength: 4000 },
};
const RESERVED = new Set(["productId", "updatedAt"]);

const productKey = (id: string) => `product:${id}`;

function cacheHeaders(rt: Runtime, status: CacheStatus): Record<string, string> {
  return { "x-cache": status, "cache-control": `public, max-age=${rt.config.cacheControlMaxAgeSeconds}` };
}

async function getProduct(_e: ProxyEvent, p: Record<string, string>, { rt, metrics }: RequestContext): Promise<ProxyResult> {
  const id = validateId("productId", p.productId);
  const result = await rt.cache.read<Product>(productKey(id), async () => {
    const out = await rt.table.getItem({ TableName: rt.config.tableName, Key: marshall({ productId: id }) });
    return out.Item ? (unmarshall(out.Item) as Product) : undefined;
  }, metrics);
  if (result.json === undefined) {
    return json(404, { error: `product ${id} not found` }, { "x-cache": result.status });
  }
  return jsonText(200, result.json, cacheHeaders(rt, result.status));
}

async function putProduct(e: ProxyEvent, p: Record<string, string>, { rt, metrics }: RequestContext): Promise<ProxyResult> {
  const id = validateId("productId", p.productId);
  const body = parseJsonBody(e, rt.config.maxBodyBytes);
  checkFields(body, PRODUCT_FIELDS);
  for (const k of Object.keys(body)) {
    if (RESERVED.has(k)) delete body[k];
    else if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(k)) {
      return json(400, { error: "invalid body", details: [`${k} is not a valid field name`] });
    }
  }
  const item: Product = { ...body, productId: id, updatedAt: new Date().toISOString() };
  const out = await rt.table.putItem({
    TableName: rt.config.tableName,
    Item: marshall(item, { removeUndefinedValues: true }),
    ReturnValues: "ALL_OLD",
  });
  // Table first, then the cache: the write is durable before any reader can miss on it.
  await rt.cache.invalidate(productKey(id), metrics);
  return json(out.Attributes ? 200 : 201, item);
}

async function deleteProduct(_e: ProxyEvent, p: Record<string, string>, { rt, metrics }: RequestContext): Promise<ProxyResult> {
  const id = validateId("productId", p.productId);
  const out = await rt.table.deleteItem({ TableName: rt.config.tableName, Key: marshall({ productId: id }), ReturnValues: "ALL_OLD" });
  await rt.cache.invalidate(productKey(id), metrics);
  if (!out.Attributes) return json(404, { error: `product ${id} not found` });
  return { statusCode: 204, headers: {}, body: "" };
}

export const ROUTES = [
  { method: "GET", path: "/health", handle: (_e: ProxyEvent, _p: Record<string, string>, c: RequestContext) => health(c.rt) },
  { method: "GET", path: "/products/{productId}", handle: getProduct },
  { method: "PUT", path: "/products/{productId}", handle: putProduct },
  { method: "DELETE", path: "/products/{productId}", handle: deleteProduct },
];

export const { createHandler, handler } = defineHandler(ROUTES);
