/**
 * The warm function against a real redis-server and dynalite: it loads ids, or the top N of a
 * ranking from the `by-rank` index, through the product handler's own cache-aside read, counting
 * every outcome; and warming never puts an older value over a newer write (a write racing a slow
 * warm), where a blind SET demonstrably does.
 */
import { PRODUCT_RANKING, productCacheKey } from "../../functions/products/contract";
import { createHandler as productHandler } from "../../functions/products/handler";
import { createHandler as warmer } from "../../functions/warmer/products";
import { warmIds } from "../../functions/lib/warm";
import { readProduct } from "../../functions/products/read";
import { body, handlerEnv, PRODUCTS_TABLE, uid } from "./handler-env";
import { getProduct, product } from "./events";

jest.setTimeout(60_000);

const env = handlerEnv({ service: "product-catalog", table: PRODUCTS_TABLE });

/** A product handler and a warm function sharing one environment (one key prefix). */
function pair(overrides: Record<string, string> = {}) {
  const e = env.env(overrides);
  return { api: env.track(productHandler({ env: e })), warm: env.track(warmer({ env: e })) };
}

test("ids: loaded, already cached, not found and invalid ids are each counted; a warmed key is a HIT", async () => {
  const { api, warm } = pair();
  const [a, b] = [uid("w"), uid("w")];
  await api(product(a));
  await api(product(b));
  await api(getProduct(b)); // b is already cached
  const r = await warm({ ids: [a, b, uid("missing"), "bad id!"] });
  expect(r).toMatchObject({ source: "ids", requested: 4, loaded: 1, cached: 1, notFound: 1, failed: 1, bypassed: 0 });
  const read = await api(getProduct(a));
  expect(read.headers["x-cache"]).toBe("HIT");
  expect(body(read).productId).toBe(a);
});

test("top N: the first N of a ranking, in rank order, from the by-rank index", async () => {
  const { api, warm } = pair();
  const list = uid("list");
  const ids = [uid("r"), uid("r"), uid("r"), uid("r")];
  // Written out of order: the index orders them by rank.
  for (const [i, id] of [[2, ids[2]], [0, ids[0]], [3, ids[3]], [1, ids[1]]] as const) {
    expect((await api(product(id, { [PRODUCT_RANKING.list]: list, [PRODUCT_RANKING.rank]: i + 1 }))).statusCode).toBe(201);
  }
  const r = await warm({ top: 3, list });
  expect(r).toMatchObject({ source: "top", list, requested: 3, loaded: 3 });
  for (const id of ids.slice(0, 3)) expect((await api(getProduct(id))).headers["x-cache"]).toBe("HIT");
  expect((await api(getProduct(ids[3]))).headers["x-cache"]).toBe("MISS");
});

test("a bad event answers an error instead of failing the invocation", async () => {
  const { warm } = pair();
  expect(await warm({ top: -1 })).toEqual({ error: expect.stringMatching(/top must be an integer/) });
  expect(await warm({ ids: [1, 2] })).toEqual({ error: "ids must be an array of strings" });
});

describe("a write racing a warm (real redis-server)", () => {
  /** Warms `id` with a loader that reads the table, then stalls before handing the value over. */
  async function slowWarm(rt: ReturnType<typeof pair>["warm"]["runtime"], id: string, stallMs: number, blindSet: boolean) {
    const source = {
      cacheKey: productCacheKey,
      load: async (r: typeof rt, i: string) => {
        const v = await readProduct(r, i);
        await new Promise((res) => setTimeout(res, stallMs));
        return v;
      },
    };
    if (!blindSet) return warmIds(rt, source, [id], { concurrency: 1 });
    // The naive warm a lease-safe fill replaces: read, then SET whatever was read.
    const v = await source.load(rt, id);
    await rt.store.set(productCacheKey(id), JSON.stringify({ v }), 300);
    return undefined;
  }

  test.each([
    ["the lease-safe warm never leaves the older value", false],
    ["a blind SET does (why the warm uses the lease)", true],
  ])("%s", async (_label, blindSet) => {
    const { api, warm } = pair();
    const id = uid("race");
    await api(product(id, { price: 1 }));
    const warming = slowWarm(warm.runtime, id, 300, blindSet as boolean);
    await new Promise((r) => setTimeout(r, 50)); // the warm has read price 1 and stalls
    expect((await api(product(id, { price: 2 }))).statusCode).toBe(200); // table, then invalidation
    await warming;
    const seen = body(await api(getProduct(id))).price;
    if (blindSet) expect(seen).toBe(1); // stale: the older value went in after the write
    else expect(seen).toBe(2);
  });
});
