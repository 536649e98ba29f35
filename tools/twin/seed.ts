/**
 * `--seed N`: sample data written through the stack's own handler (as API Gateway would invoke
 * it), so the items have exactly the shape the handler reads.
 *   product catalog: products sample-1 … sample-N
 *   session store:   sessions sample-1 … sample-N, two turns each, customer sample-customer-<i>
 */
import { randomUUID } from "crypto";
import { CONNECTIONS, fillPath, routeOf, RouteSpec } from "../../functions/lib/contract";
import { PRODUCTS } from "../../functions/products/contract";
import { SESSIONS } from "../../functions/sessions/contract";
import { callerContext } from "./authorizers";
import { FunctionPool } from "./functions";
import { buildEvent } from "./gateway";
import { ApiDef } from "./stack";

export const MAX_SEED = 1_000;

/** The customer (verified caller) who owns seeded session `sample-<i>`. */
export const sampleCustomer = (i: number): string => `sample-customer-${i}`;
/**
 * The customers the twin writes sample tokens for (`sample_token`, `sample_token_other`). Not the
 * seeded sessions' owners: their rate-limit windows start empty, so a smoke run's count is exact.
 */
export const SAMPLE_CUSTOMERS = ["twin-customer-1", "twin-customer-2"] as const;
/** Who writes the sample products. */
const SEED_CALLER = "twin-seed";

export type StackKind = "product-catalog" | "session-store";

/** The stack kind by name prefix (`product-catalog-dev` → `product-catalog`). */
export function stackKind(stack: string): StackKind | undefined {
  if (stack.startsWith("product-catalog")) return "product-catalog";
  if (stack.startsWith("session-store")) return "session-store";
  return undefined;
}

interface SeedRequest {
  readonly route: RouteSpec;
  readonly pathParameters: Record<string, string>;
  readonly body: unknown;
  /** The verified caller the request is made as (on `caller` routes). */
  readonly caller: string;
}

function requests(kind: StackKind, n: number): SeedRequest[] {
  const out: SeedRequest[] = [];
  const categories = ["books", "tools", "games", "garden"];
  for (let i = 1; i <= n; i++) {
    if (kind === "product-catalog") {
      const productId = `sample-${i}`;
      out.push({
        route: routeOf(PRODUCTS, "putProduct"),
        pathParameters: { productId },
        body: {
          name: `Sample product ${i}`,
          price: Math.round((4.99 + i * 2.5) * 100) / 100,
          currency: "EUR",
          category: categories[i % categories.length],
          description: `Seeded by the local twin (--seed). Try: GET ${fillPath(routeOf(PRODUCTS, "getProduct").path, { productId })} twice.`,
        },
        caller: SEED_CALLER,
      });
    } else {
      const sessionId = `sample-${i}`;
      const customerId = sampleCustomer(i);
      for (const [role, content] of [
        ["user", `Hello, where is my order #${1000 + i}?`],
        ["assistant", `Order #${1000 + i} left the warehouse yesterday and should arrive tomorrow.`],
      ]) {
        out.push({
          route: routeOf(SESSIONS, "appendTurn"),
          pathParameters: { sessionId },
          body: { role, content },
          caller: customerId,
        });
      }
    }
  }
  return out;
}

/** Sample ids written, for the start banner. */
export function seededIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `sample-${i + 1}`);
}

/** Writes the sample data; throws naming the first request the handler refused. */
export async function seed(kind: StackKind, n: number, api: ApiDef, pools: ReadonlyMap<string, FunctionPool>, apiKey?: { id: string; value: string }): Promise<void> {
  for (const r of requests(kind, n)) {
    const { method: httpMethod, path: resourcePath } = r.route;
    const path = fillPath(resourcePath, r.pathParameters);
    const method = api.methods.find((m) => m.httpMethod === httpMethod && m.resourcePath === resourcePath);
    const pool = method?.integration?.functionLogicalId ? pools.get(method.integration.functionLogicalId) : undefined;
    if (!method || !pool) throw new Error(`--seed: the stack has no ${httpMethod} ${resourcePath} route to write through`);
    const event = buildEvent({
      method: httpMethod,
      path,
      resourcePath,
      pathParameters: r.pathParameters,
      query: "",
      rawHeaders: ["Content-Type", "application/json", "User-Agent", "cachefront-twin-seed"],
      body: Buffer.from(JSON.stringify(r.body)),
      stage: api.stageName,
      stageVariables: api.stageVariables,
      binaryMediaTypes: api.binaryMediaTypes,
      sourceIp: "127.0.0.1",
      requestId: randomUUID(),
      apiKey: method.apiKeyRequired ? apiKey : undefined,
      apiId: "twin",
      // Seeding invokes the function directly, as an authorized request would reach it.
      caller: r.route.access === "caller" ? callerContext(pool.fn.environment[CONNECTIONS.callerIdentity.env], r.caller) : undefined,
    });
    const outcome = await pool.invoke(event, randomUUID());
    const result = outcome.kind === "ok" ? (outcome.result as { statusCode?: number; body?: string }) : undefined;
    if (!result || typeof result.statusCode !== "number" || result.statusCode >= 300) {
      const detail = outcome.kind === "ok" ? `${result?.statusCode} ${String(result?.body).slice(0, 200)}` : outcome.kind;
      throw new Error(`--seed: ${httpMethod} ${path} failed: ${detail}`);
    }
  }
}
