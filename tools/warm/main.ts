/**
 * Warms a deployment's (or the twin's) cache from its outputs file:
 *   npm run warm -- --outputs out.json --ids p1,p2,p3
 *   npm run warm -- --outputs cdktf.out/twin-outputs.json --top 100 [--list bestsellers]
 * With a warm function (`warm_function_name`) it is invoked (Lambda's Invoke API, with the AWS
 * credentials of the environment; the twin's `lambda_endpoint` for the twin) and loads the keys
 * with the lease-safe fill in the function's own network. Without one, `--ids` are read through the
 * API (`api_url`), whose reads fill the cache the same lease-safe way; a top N needs the function.
 * See help/edge.md.
 */
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { FAKE_CREDENTIALS } from "../twin/local";
import { CONNECTIONS, fillPath, MAX_WARM_IDS, routeOf } from "../../functions/lib/contract";
import { PRODUCTS } from "../../functions/products/contract";
import type { WarmResult } from "../../functions/lib";
import { intFlag, parseCli, reportError, UsageError } from "../lib/cli";
import { readOutputs, StackOutputs } from "../smoke/outputs";

const USAGE = `usage: npm run warm -- --outputs <file> (--ids a,b,c | --top N) [options]

Loads a key set into a deployment's cache before traffic does, never over a newer write.

  --outputs <file>   outputs file (cdktf deploy --outputs-file, or the twin's)
  --stack <name>     the stack, when the file holds several
  --ids <a,b,c>      these ids (at most ${MAX_WARM_IDS})
  --top <n>          the first n of a ranking (the warm function reads its index)
  --list <name>      the ranking (default: the warm function's WARM_RANK_LIST, bestsellers)
  --region <name>    region of the warm function (default: from api_url, else ${CONNECTIONS.region.env})
  --batch <n>        ids per invocation of the warm function (default 500)
  --concurrency <n>  reads in flight through the API, without a warm function (default 8)
  --json             print the result as JSON
  -h, --help         this text`;

/** What a run loaded, key by key (the warm function's answer, or the CLI's own through the API). */
type WarmCounts = WarmResult;

type Say = (line: string) => void;

/** The region of an execute-api URL, if it is one. */
function regionOf(apiUrl: unknown): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(String(apiUrl ?? ""))?.[1];
}

/**
 * Invokes the warm function once per event (a large id set goes in batches, so a run shows its
 * progress and no invocation nears Lambda's time limit) and adds up the answers; on AWS the last
 * lines of each invocation's log are shown too.
 */
async function viaFunction(outputs: StackOutputs, events: ReadonlyArray<Record<string, unknown>>, region: string | undefined, say: Say): Promise<WarmCounts> {
  const fn = String(outputs.warm_function_name);
  const endpoint = typeof outputs.lambda_endpoint === "string" ? outputs.lambda_endpoint : undefined;
  const client = new LambdaClient({
    region: region ?? regionOf(outputs.api_url) ?? process.env[CONNECTIONS.region.env] ?? "us-east-1",
    endpoint,
    // The warm run takes as long as its keys do; the SDK's default socket timeout would cut it.
    requestHandler: { requestTimeout: 900_000 } as never,
    // The twin checks SigV4 against its own credentials, as Lambda checks a deployment's.
    ...(endpoint ? { credentials: { accessKeyId: FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY, sessionToken: FAKE_CREDENTIALS.AWS_SESSION_TOKEN } } : {}),
  });
  say(`warm: invoking ${fn}${endpoint ? ` (the twin at ${endpoint})` : ""}${events.length > 1 ? ` in ${events.length} batches` : ""}, first with ${JSON.stringify(events[0]).slice(0, 200)}`);
  const t0 = Date.now();
  const total: { -readonly [K in keyof WarmCounts]: WarmCounts[K] } = { source: "ids", requested: 0, loaded: 0, cached: 0, notFound: 0, bypassed: 0, failed: 0, ms: 0 };
  try {
    for (const event of events) {
      const out = await client.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(event)), LogType: endpoint ? undefined : "Tail" }));
      for (const line of Buffer.from(out.LogResult ?? "", "base64").toString("utf8").split("\n")) {
        const m = /"msg":"(warm: [^"]*)"/.exec(line);
        if (m) say(`  ${m[1]}`);
      }
      const answer = JSON.parse(Buffer.from(out.Payload ?? []).toString("utf8") || "null") as WarmCounts & { error?: string; errorMessage?: string };
      if (out.FunctionError) throw new Error(`the warm function failed: ${answer?.errorMessage ?? JSON.stringify(answer)}`);
      if (answer?.error) throw new UsageError(`the warm function refused the request: ${answer.error}`);
      total.source = answer.source;
      if (answer.list) total.list = answer.list;
      for (const k of ["requested", "loaded", "cached", "notFound", "bypassed", "failed"] as const) total[k] += answer[k];
      if (events.length > 1) {
        say(`  warm: ${total.requested} keys done (loaded ${total.loaded}, cached ${total.cached}, not found ${total.notFound}, bypassed ${total.bypassed}, failed ${total.failed})`);
      }
    }
    total.ms = Date.now() - t0;
    return total;
  } finally {
    client.destroy();
  }
}

/**
 * Reads each id through the API (the product read route under `api_url`), counting what the
 * handler's X-Cache says.
 */
async function viaApi(outputs: StackOutputs, ids: readonly string[], concurrency: number, say: Say): Promise<WarmCounts> {
  const base = String(outputs.api_url).replace(/\/+$/, "");
  const t0 = Date.now();
  const counts = { loaded: 0, cached: 0, notFound: 0, bypassed: 0, failed: 0 };
  let forbidden = 0;
  const step = Math.max(1, Math.ceil(ids.length / 10));
  let next = 0;
  let done = 0;
  const one = async (id: string) => {
    try {
      const r = await fetch(`${base}${fillPath(routeOf(PRODUCTS, "getProduct").path, { productId: id })}`, { signal: AbortSignal.timeout(30_000) });
      await r.arrayBuffer();
      const cache = r.headers.get("x-cache");
      if (r.status === 403) forbidden++;
      if (r.status === 404) counts.notFound++;
      else if (r.status !== 200) counts.failed++;
      else if (cache === "HIT") counts.cached++;
      else if (cache === "BYPASS") counts.bypassed++;
      else counts.loaded++;
    } catch {
      counts.failed++;
    }
    done++;
    if (done % step === 0 || done === ids.length) say(`  warm: ${done}/${ids.length} (loaded ${counts.loaded}, cached ${counts.cached}, not found ${counts.notFound}, failed ${counts.failed})`);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
    while (next < ids.length) await one(ids[next++]);
  }));
  if (forbidden === ids.length && outputs.edge_url) {
    throw new UsageError(`${base} answered 403 to every read: the API answers only through its edge (CacheEdge restrictOriginToEdge). Warm with the warm function (warm_function_name), which reads the table and fills the cache from inside the network`);
  }
  return { source: "ids", requested: ids.length, ...counts, ms: Date.now() - t0 };
}

async function main(): Promise<number> {
  const say: Say = (l) => process.stdout.write(`${l}\n`);
  try {
    const args = parseCli(process.argv.slice(2), {
      outputs: { type: "string" }, stack: { type: "string" }, ids: { type: "string" }, top: { type: "string" }, list: { type: "string" },
      region: { type: "string" }, batch: { type: "string" }, concurrency: { type: "string" }, json: { type: "boolean" },
    }, USAGE);
    if (args === "help") return 0;
    const v = args.values;
    if (!v.outputs) throw new UsageError("--outputs <file> is required (see --help)");
    if ((v.ids === undefined) === (v.top === undefined)) throw new UsageError("give one of --ids a,b,c or --top N");
    const ids = v.ids?.split(",").map((s) => s.trim()).filter(Boolean);
    if (ids && (ids.length === 0 || ids.length > MAX_WARM_IDS)) throw new UsageError(`--ids: 1 to ${MAX_WARM_IDS} ids, separated by commas`);
    const top = v.top === undefined ? undefined : intFlag("top", v.top, 0, 1, MAX_WARM_IDS);
    const { stack, outputs } = readOutputs(v.outputs, v.stack);
    const quiet: Say = v.json ? () => undefined : say;
    let result: WarmCounts;
    if (typeof outputs.warm_function_name === "string" && outputs.warm_function_name) {
      const batch = intFlag("batch", v.batch, 500, 1, MAX_WARM_IDS);
      const events = ids
        ? Array.from({ length: Math.ceil(ids.length / batch) }, (_, i) => ({ ids: ids.slice(i * batch, (i + 1) * batch) }))
        : [{ top, ...(v.list ? { list: v.list } : {}) }];
      result = await viaFunction(outputs, events, v.region, quiet);
    } else if (ids) {
      quiet(`warm: ${stack} has no warm function (warm_function_name); reading ${ids.length} id(s) through ${String(outputs.api_url)}`);
      result = await viaApi(outputs, ids, intFlag("concurrency", v.concurrency, 8, 1, 256), quiet);
    } else {
      throw new UsageError(`${stack} has no warm function (warm_function_name): a top N needs it (it reads the ranking index); pass --ids instead`);
    }
    if (v.json) say(JSON.stringify(result));
    else {
      say(`warm: ${stack}: ${result.requested} key(s) in ${result.ms} ms: ${result.loaded} loaded, ${result.cached} already cached, ` +
        `${result.notFound} not found, ${result.bypassed} bypassed (cache unreachable), ${result.failed} failed`);
    }
    return result.failed > 0 || result.bypassed > 0 ? 1 : 0;
  } catch (err) {
    return reportError(err);
  }
}

if (require.main === module) main().then((code) => process.exit(code));
