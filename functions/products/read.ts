/**
 * How a product is read from the table: the loader of the handler's cache-aside read and of the
 * warm function, so a warmed entry is byte for byte what a read would have cached.
 */
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { Runtime } from "../lib/runtime";
import { PRODUCTS_TABLE } from "./contract";

/** A product item as stored: the body's fields plus its id and last write time. */
export type Product = Record<string, unknown> & { productId: string };

/** The product `id`, or undefined when there is none. */
export async function readProduct(rt: Runtime, id: string): Promise<Product | undefined> {
  const out = await rt.table.getItem({ TableName: rt.config.tableName, Key: marshall({ [PRODUCTS_TABLE.partitionKey.name]: id }) });
  return out.Item ? (unmarshall(out.Item) as Product) : undefined;
}
