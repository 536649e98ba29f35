/**
 * The warm function: loads a key set into the cache of the function it fronts before traffic does,
 * each key through `rt.cache.read` with that function's own loader, i.e. the cache-aside read with
 * its lease: a key already cached is left alone, a missing one is loaded and stored only while the
 * lease is still held. A write that lands meanwhile revokes the lease (the write path's and the
 * stream's invalidation), so a warm run can never put an older value over a newer write; a blind
 * SET could.
 *
 * Event: `{ "ids": ["a", "b"] }`, or `{ "top": 50, "list": "bestsellers" }` (the first N of a
 * ranking, read from the contract's rank index); an empty event takes the settings' top N. The
 * answer counts every outcome; progress is logged every 10 %.
 */
import { MAX_WARM_IDS, WarmerContract } from "./contract";
import { HttpError } from "./http";
import { perContainer } from "./container";
import { errorFields, log } from "./log";
import { RequestMetrics } from "./metrics";
import { createRuntime, Runtime, RuntimeDeps } from "./runtime";
import { validateId } from "./validate";

/** What a warm run is asked to load. */
export interface WarmEvent {
  /** Explicit ids (at most 10,000). */
  readonly ids?: readonly string[];
  /** The first N of a ranking. */
  readonly top?: number;
  /** The ranking's name. @default the `WARM_RANK_LIST` setting */
  readonly list?: string;
}

/** What a warm run did, key by key. */
export interface WarmResult {
  /** Where the keys came from. */
  readonly source: "ids" | "top";
  /** The ranking read (top N runs). */
  readonly list?: string;
  /** Keys in the set. */
  readonly requested: number;
  /** Read from the table and offered to the cache (stored unless a write revoked the lease meanwhile). */
  readonly loaded: number;
  /** Already in the cache: left as they were. */
  readonly cached: number;
  /** No such item (a not-found entry is cached, as a read would). */
  readonly notFound: number;
  /** Read from the table without the cache (the cache was unreachable). */
  readonly bypassed: number;
  /** Not warmed: the id is not valid, or the table failed. */
  readonly failed: number;
  /** Wall time of the run. */
  readonly ms: number;
}

/** How a contract's keys are warmed: its cache key, its loader (the handler's), its top-N query. */
export interface WarmSource {
  /** The cache key of an id. */
  cacheKey(id: string): string;
  /** The item of an id, as the handler's read loads it; undefined when there is none. */
  load(rt: Runtime, id: string): Promise<unknown>;
  /** The first `n` ids of ranking `list`, in order. */
  top?(rt: Runtime, list: string, n: number): Promise<string[]>;
}

type Outcome = "loaded" | "cached" | "notFound" | "bypassed" | "failed";

/**
 * Warms `ids` with at most `concurrency` reads in flight, calling `progress` at every tenth of the
 * set; never throws for one key (its outcome is counted).
 */
export async function warmIds(
  rt: Runtime, source: WarmSource, ids: readonly string[], opts: { concurrency: number; progress?: (done: number, counts: Record<Outcome, number>) => void },
): Promise<Record<Outcome, number>> {
  const counts: Record<Outcome, number> = { loaded: 0, cached: 0, notFound: 0, bypassed: 0, failed: 0 };
  const metrics = new RequestMetrics(rt.config.metricsNamespace, rt.config.serviceName);
  metrics.setRoute("warm");
  const step = Math.max(1, Math.ceil(ids.length / 10));
  let next = 0;
  let done = 0;
  const one = async (id: string): Promise<Outcome> => {
    try {
      validateId("id", id);
      const r = await rt.cache.read(source.cacheKey(id), () => source.load(rt, id), metrics);
      if (r.status === "HIT") return "cached";
      if (r.status === "BYPASS") return "bypassed";
      return r.json === undefined ? "notFound" : "loaded";
    } catch (err) {
      log("warn", "warm: key not warmed", { id, ...errorFields(err) });
      return "failed";
    }
  };
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      counts[await one(id)]++;
      done++;
      if (opts.progress && (done % step === 0 || done === ids.length)) opts.progress(done, counts);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, ids.length) }, worker));
  } finally {
    metrics.flush();
  }
  return counts;
}

/** The key set of `event`: its ids, else a top N (its own, else the settings'). */
async function keySet(contract: WarmerContract, source: WarmSource, rt: Runtime<WarmerContract["settings"]>, event: WarmEvent): Promise<{ ids: string[]; source: "ids" | "top"; list?: string }> {
  if (event.ids !== undefined) {
    if (!Array.isArray(event.ids) || event.ids.some((i) => typeof i !== "string")) throw new HttpError(400, "ids must be an array of strings");
    if (event.ids.length > MAX_WARM_IDS) throw new HttpError(400, `at most ${MAX_WARM_IDS} ids per run; split the set`);
    return { ids: [...new Set(event.ids)], source: "ids" };
  }
  const n = event.top ?? rt.settings.warmTop;
  if (!Number.isInteger(n) || n < 0 || n > MAX_WARM_IDS) throw new HttpError(400, `top must be an integer from 0 to ${MAX_WARM_IDS}`);
  const list = event.list ?? rt.settings.warmRankList;
  if (n === 0) return { ids: [], source: "top", list };
  if (!source.top || !contract.rankIndex) throw new HttpError(400, `contract ${contract.fronts.name} has no rank index: warm it with ids`);
  return { ids: await source.top(rt, list, n), source: "top", list };
}

/**
 * The two entry points of a warm function module: `createHandler(deps)` for tests and the twin,
 * `handler` for Lambda (one runtime per container). A bad event answers `{ error }` instead of
 * failing the invocation, so a schedule or a deploy never retries a request that cannot succeed.
 */
export function defineWarmerHandler(contract: WarmerContract, source: WarmSource): {
  createHandler: (deps?: RuntimeDeps) => ((event: unknown) => Promise<WarmResult | { error: string }>) & { runtime: Runtime<WarmerContract["settings"]> };
  handler: (event: unknown) => Promise<WarmResult | { error: string }>;
} {
  const createHandler = (deps: RuntimeDeps = {}) => {
    const rt = createRuntime(contract.settings, deps);
    const run = async (event: unknown): Promise<WarmResult | { error: string }> => {
      const t0 = Date.now();
      let set: Awaited<ReturnType<typeof keySet>>;
      try {
        set = await keySet(contract, source, rt, (event ?? {}) as WarmEvent);
      } catch (err) {
        if (err instanceof HttpError) return { error: err.message };
        throw err;
      }
      log("info", `warm: ${set.ids.length} keys (${set.source === "ids" ? "ids of the event" : `top ${set.ids.length} of ${set.list}`})`);
      const counts = await warmIds(rt, source, set.ids, {
        concurrency: rt.settings.warmConcurrency,
        progress: (done, c) => log("info", `warm: ${done}/${set.ids.length}`, { ...c }),
      });
      const result: WarmResult = { source: set.source, ...(set.list ? { list: set.list } : {}), requested: set.ids.length, ...counts, ms: Date.now() - t0 };
      log("info", "warm: done", { ...result });
      return result;
    };
    return Object.assign(run, { runtime: rt });
  };
  const handler = perContainer(() => createHandler());
  return { createHandler, handler };
}
