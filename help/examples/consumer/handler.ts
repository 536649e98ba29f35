/**
 * GET /prices/{productId}: only the price, read through the cache with the package's runtime
 * library. Its entries (`price:<id>`) are not invalidated by the product function's writes, so
 * a price can be up to `priceTtlSeconds` stale: short TTLs are how cache-aside bounds that.
 */
import { defineHandler, HttpError, json, validateId } from "@cachefront/cdktf-dynamodb-cache/runtime";
import { PRICES } from "./contract";

export const { handler, createHandler } = defineHandler(PRICES, {
  getPrice: async (_event, params, { rt, metrics }) => {
    const id = validateId("productId", params.productId);
    const read = await rt.cache.read<number>(`price:${id}`, async () => {
      const out = await rt.table.getItem({ TableName: rt.config.tableName, Key: { productId: { S: id } }, ProjectionExpression: "price" });
      const price = out.Item?.price?.N;
      return price === undefined ? undefined : Number(price);
    }, metrics, rt.settings.priceTtlSeconds);
    if (read.value === undefined) throw new HttpError(404, `product ${id} has no price`);
    return json(200, { productId: id, price: read.value }, { "x-cache": read.status });
  },
});
