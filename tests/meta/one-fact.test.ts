/**
 * One fact, one place: every environment variable name, route path template and metric name is
 * written once in the non-test sources, in a contract (functions/lib/contract, functions/<name>/contract.ts);
 * everything else (handlers, constructs, stacks, the twin, the bench) refers to it.
 */
import { readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";
import { CONNECTIONS, HEALTH_ROUTE, INVALIDATOR_SETTINGS, METRIC_DEFINITIONS, REALTIME_SETTINGS, RUNTIME_SETTINGS, Setting, SOCKET_ROUTE } from "../../functions/lib/contract";
import { PRODUCTS } from "../../functions/products/contract";
import { SESSIONS } from "../../functions/sessions/contract";
import { AUTHORIZER } from "../../functions/authorizer/contract";
import { PUSHER } from "../../functions/pusher/contract";

const ROOT = path.resolve(__dirname, "../..");
/**
 * Left out: the bench's bare baseline handler, which deliberately uses nothing of the runtime
 * (it is what the runtime's cold start is measured against), and the bench's result files.
 */
const EXCLUDED = [/^tools\/bench\/fixtures\//, /^tools\/bench\/results\//];

function files(p: string): string[] {
  const abs = path.join(ROOT, p);
  if (statSync(abs).isFile()) return p.endsWith(".ts") ? [p] : [];
  return readdirSync(abs).flatMap((n) => (n === "node_modules" ? [] : files(path.join(p, n))));
}

/** Source without comments (a comment may name a variable; only code defines one). */
export function codeOf(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

const SOURCES = ["main.ts", "stacks", "modules", "functions", "tools"]
  .flatMap(files)
  .filter((f) => !EXCLUDED.some((re) => re.test(f)))
  .map((f) => ({ file: f, code: codeOf(readFileSync(path.join(ROOT, f), "utf8")) }));

/** Where `re` matches in the sources, as `file` per match. */
function occurrences(re: RegExp): string[] {
  return SOURCES.flatMap(({ file, code }) => [...code.matchAll(re)].map(() => file));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const CONTRACTS = [PRODUCTS, SESSIONS, AUTHORIZER, PUSHER];
const SETTINGS: Setting[] = [...new Set([
  ...Object.values(RUNTIME_SETTINGS), ...Object.values(CONNECTIONS), ...Object.values(INVALIDATOR_SETTINGS), ...Object.values(REALTIME_SETTINGS),
  ...CONTRACTS.flatMap((c) => Object.values(c.settings)),
])];

describe("one fact, one place", () => {
  test("reads the sources", () => {
    expect(SOURCES.length).toBeGreaterThan(100);
    expect(SETTINGS.length).toBeGreaterThan(25);
  });

  test.each(SETTINGS.map((s) => [s.env]))("the environment variable %s is named once, where it is declared", (name) => {
    expect(occurrences(new RegExp(`\\b${name}\\b`, "g"))).toEqual([expect.stringMatching(/^functions\/(lib\/contract\/runtime\.ts|[a-z]+\/contract\.ts)$/)]);
  });

  const routes = [HEALTH_ROUTE, ...CONTRACTS.flatMap((c) => c.routes.filter((r) => r !== HEALTH_ROUTE))];
  test.each(routes.map((r) => [r.path, r.method]))("the route template %s (%s) is written once, in its contract", (p) => {
    expect(occurrences(new RegExp(`["'\`]${escape(p)}["'\`]`, "g"))).toEqual([
      expect.stringMatching(/^functions\/(lib\/contract\/runtime\.ts|[a-z]+\/contract\.ts)$/),
    ]);
  });

  // `$default` is API Gateway's catch-all key of much else too (route responses, REST models), so it is left out.
  const socketKeys = [...new Set([SOCKET_ROUTE.connect, SOCKET_ROUTE.disconnect, ...CONTRACTS.flatMap((c) => c.socket?.routes.map((r) => r.routeKey) ?? [])])]
    .filter((k) => k !== SOCKET_ROUTE.default);
  // Quotes only: descriptions name the keys in backticked code spans, which are prose, not code.
  test.each(socketKeys.map((k) => [k]))("the WebSocket route key %s is spelled only in contracts", (key) => {
    const found = occurrences(new RegExp(`["']${escape(key)}["']`, "g"));
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((f) => !/^functions\/(lib\/contract\/socket\.ts|[a-z]+\/contract\.ts)$/.test(f))).toEqual([]);
  });

  test.each(Object.keys(METRIC_DEFINITIONS).map((m) => [m]))("the metric %s is defined once and never spelled as a string", (name) => {
    expect(occurrences(new RegExp(`["'\`]${name}["'\`]`, "g"))).toEqual([]);
    expect(occurrences(new RegExp(`^\\s*${name}:`, "gm"))).toEqual(["functions/lib/contract/metrics.ts"]);
  });

  test("the checks can fail: a second spelling of a name is found", () => {
    const probe = `const x = process.env.${"CACHE_TTL_" + "SECONDS"}; // comment ${"MAX_BODY_" + "BYTES"}`;
    expect([...codeOf(probe).matchAll(/\bCACHE_TTL_SECONDS\b/g)]).toHaveLength(1);
    expect([...codeOf(probe).matchAll(/\bMAX_BODY_BYTES\b/g)]).toHaveLength(0);
  });
});
