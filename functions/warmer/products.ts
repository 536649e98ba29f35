/** The product catalog's warm function (see ../lib/warm.ts): the handler's loader and cache key, ranks from `by-rank`. */
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { defineWarmerHandler } from "../lib/warm";
import { PRODUCT_RANKING, productCacheKey, PRODUCTS_TABLE } from "../products/contract";
import { readProduct } from "../products/read";
import { PRODUCTS_WARMER } from "./contract";

export const { createHandler, handler } = defineWarmerHandler(PRODUCTS_WARMER, {
  cacheKey: productCacheKey,
  load: readProduct,
  async top(rt, list, n) {
    const ids: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await rt.table.query({
        TableName: rt.config.tableName,
        IndexName: PRODUCT_RANKING.indexName,
        KeyConditionExpression: "#list = :list",
        ExpressionAttributeNames: { "#list": PRODUCT_RANKING.list },
        ExpressionAttributeValues: marshall({ ":list": list }),
        ScanIndexForward: true, // rank 1 first
        Limit: n - ids.length,
        ExclusiveStartKey: start as never,
      });
      for (const item of out.Items ?? []) ids.push(String(unmarshall(item)[PRODUCTS_TABLE.partitionKey.name]));
      start = out.LastEvaluatedKey;
    } while (start && ids.length < n);
    return ids;
  },
});
