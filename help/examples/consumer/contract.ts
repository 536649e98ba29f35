/**
 * The contract of this app's own function: its route, its setting and the table layout it reads.
 * The handler (handler.ts) and the infrastructure (main.ts) both import it, so they cannot disagree.
 */
import * as path from "path";
import { defineContract, integer, METRIC } from "@cachefront/cdktf-dynamodb-cache/runtime";

export const PRICES = defineContract({
  name: "prices",
  entry: path.join(__dirname, "handler.ts"),
  description: "Prices: the price of a product, cached briefly",
  routes: [{
    name: "getPrice", method: "GET", path: "/prices/{productId}", summary: "the price only", access: "public", cached: true,
    publicReason: "prices are public: the shop shows them to everyone",
  }],
  settings: { priceTtlSeconds: integer("PRICE_TTL_SECONDS", { default: 30, min: 1, max: 3600, description: "how stale a price may be" }) },
  table: { partitionKey: { name: "productId", type: "S" } },
  metrics: [METRIC.CacheHit, METRIC.CacheMiss],
});
