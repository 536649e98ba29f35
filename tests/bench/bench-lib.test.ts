/**
 * The benchmark's building blocks (tools/bench): statistics, the Zipf workload, the naive synth
 * baseline's import rewriting, the page markers and the chart. Fast and offline; the benchmark
 * itself is run with `npm run bench`, not by the tests.
 */
import { readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";
import { renderChart } from "../../tools/bench/chart";
import { namespaceMap, PROVIDER, rewriteProviderImports } from "../../tools/bench/naive";
import { PAGE_BEGIN, PAGE_END, replaceSection, targets } from "../../tools/bench/report";
import { cdfPoints, percentile, ratio, summarize } from "../../tools/bench/stats";
import { mulberry32, ttlCacheHitRatio, Zipf } from "../../tools/bench/zipf";

const ROOT = path.resolve(__dirname, "../..");

describe("stats", () => {
  test("nearest-rank percentiles", () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted on purpose
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([3, 1, 2], 99)).toBe(3); // fewer than 100 samples: p99 is the largest
    expect(percentile([], 50)).toBeNaN();
  });

  test("summaries, ratios and CDF points", () => {
    const s = summarize([1, 2, 3, 4]);
    expect(s).toMatchObject({ n: 4, min: 1, p50: 2, max: 4, mean: 2.5 });
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeNaN();
    const cdf = cdfPoints([5, 1, 3]);
    expect(cdf[0]).toEqual([1, 0]);
    expect(cdf[cdf.length - 1]).toEqual([5, 1]);
  });
});

describe("Zipf workload", () => {
  test("probabilities sum to 1 and fall with rank", () => {
    const z = new Zipf(1000, 1.0);
    let sum = 0;
    for (let k = 1; k <= 1000; k++) sum += z.probability(k);
    expect(sum).toBeCloseTo(1, 9);
    expect(z.probability(1) / z.probability(2)).toBeCloseTo(2, 9);
  });

  test("sampling is deterministic per seed and follows the distribution", () => {
    const z = new Zipf(10_000, 1.0);
    const a = mulberry32(1);
    const b = mulberry32(1);
    const xs = Array.from({ length: 50_000 }, () => z.sample(a));
    expect(xs.slice(0, 100)).toEqual(Array.from({ length: 100 }, () => z.sample(b)));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...xs)).toBeLessThanOrEqual(10_000);
    const firstRank = xs.filter((x) => x === 1).length / xs.length;
    expect(Math.abs(firstRank - z.probability(1))).toBeLessThan(0.01); // ≈ 0.102
  });

  test("the modelled TTL-cache hit ratio grows with the request rate", () => {
    const z = new Zipf(10_000, 1.0);
    const r = [1, 10, 100, 1000].map((rate) => ttlCacheHitRatio(z, rate, 300));
    for (let i = 1; i < r.length; i++) expect(r[i]).toBeGreaterThan(r[i - 1]);
    expect(r[3]).toBeLessThan(1);
  });
});

describe("naive synth baseline", () => {
  const index = readFileSync(path.join(ROOT, "node_modules", PROVIDER, "lib", "index.js"), "utf8");
  const namespaces = namespaceMap(index);

  test("maps the provider's modules to their namespaces", () => {
    expect(namespaces.get("dax-cluster")).toBe("daxCluster");
    expect(namespaces.get("provider")).toBe("provider");
    expect(namespaces.size).toBeGreaterThan(1000);
  });

  test("rewrites deep imports to the root namespace, aliases included", () => {
    const src = [
      `import { DaxCluster as TfDaxCluster, DaxClusterConfig } from "${PROVIDER}/lib/dax-cluster";`,
      `import { Construct } from "constructs";`,
      `import { Vpc } from '${PROVIDER}/lib/vpc'`,
    ].join("\n");
    const r = rewriteProviderImports(src, namespaces);
    expect(r.rewritten).toBe(2);
    expect(r.source.split("\n")).toEqual([
      `import * as aws from "${PROVIDER}";`,
      "import TfDaxCluster = aws.daxCluster.DaxCluster;",
      "import DaxClusterConfig = aws.daxCluster.DaxClusterConfig;",
      `import { Construct } from "constructs";`,
      "import Vpc = aws.vpc.Vpc;",
    ]);
  });

  test("refuses what it cannot rewrite instead of keeping a deep import", () => {
    expect(() => rewriteProviderImports(`import { X } from "${PROVIDER}/lib/no-such-module";`, namespaces)).toThrow(/not a namespace/);
    expect(() => rewriteProviderImports(`import {\n  Vpc,\n} from "${PROVIDER}/lib/vpc";`, namespaces)).toThrow(/cannot rewrite/);
  });

  test("every provider import of the app can be rewritten (the baseline keeps working as the code changes)", () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => {
        const p = path.join(dir, n);
        return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
      });
    let rewritten = 0;
    for (const f of [path.join(ROOT, "main.ts"), ...files(path.join(ROOT, "stacks")), ...files(path.join(ROOT, "modules"))]) {
      rewritten += rewriteProviderImports(readFileSync(f, "utf8"), namespaces, f).rewritten;
    }
    expect(rewritten).toBeGreaterThan(20);
  });
});

describe("report", () => {
  test("replaces only the generated section of the page", () => {
    const page = `# T\n\nintro\n\n${PAGE_BEGIN}\nold\n${PAGE_END}\n\noutro\n`;
    expect(replaceSection(page, "new")).toBe(`# T\n\nintro\n\n${PAGE_BEGIN}\nnew\n${PAGE_END}\n\noutro\n`);
    expect(() => replaceSection("# no markers", "x")).toThrow(/markers/);
  });

  test("help/performance.md has the markers the benchmark writes between", () => {
    const page = readFileSync(path.join(ROOT, "help", "performance.md"), "utf8");
    expect(page.indexOf(PAGE_BEGIN)).toBeGreaterThan(0);
    expect(page.indexOf(PAGE_END)).toBeGreaterThan(page.indexOf(PAGE_BEGIN));
  });

  test("targets of scenarios that did not run are neither passed nor failed", () => {
    const t = targets({});
    expect(t.length).toBeGreaterThanOrEqual(7);
    expect(t.every((x) => x.pass === null)).toBe(true);
  });

  test("the invalidation-lag target passes at a p99 within 2 s and fails, saying why, above it or when a write was never invalidated", () => {
    const lag = (p99: number, missing = 0) => {
      const summary = { n: 100, min: 5, p50: 120, p90: 200, p99, max: p99, mean: 130 };
      const inv = { samples: 100, missing, streamLagMs: summary, cdf: [], pollMs: 250, writePath: { samples: 5, goneBeforeAck: 5, lagMs: summary }, ttlSeconds: { min: 300, max: 330 } };
      return targets({ invalidation: inv as never }).find((x) => x.id === "invalidation-lag")!;
    };
    expect(lag(230)).toEqual(expect.objectContaining({ pass: true, value: "230.0 ms" }));
    expect(lag(2_500)).toEqual(expect.objectContaining({ pass: false, why: expect.stringMatching(/fell behind/) }));
    expect(lag(230, 1)).toEqual(expect.objectContaining({ pass: false, value: "1 never invalidated" }));
  });

  test("the L1 targets: a hit ≤ 0.1× a raw GET, ≥ 50 % fewer GETs, staleness ≤ TTL + 50 ms; each fails, saying why, past its bound", () => {
    const sum = (p50: number, max = p50) => ({ n: 10, min: p50, p50, p90: p50, p99: max, max, mean: p50 });
    const arm = (gets: number) => ({ redisGets: gets, getsPer100k: gets, l1Hits: 100_000 - gets, seconds: 2, readsPerSecond: 50_000 });
    const l1 = (l1P50: number, withGets: number, worstMs: number) => targets({
      l1: {
        ttlMs: 1_000,
        latency: { samplesEach: 10, valueBytes: 900, l1Us: sum(l1P50), rawGetUs: sum(30), redisTierUs: sum(40), handlerL1Us: sum(5), p50Ratio: l1P50 / 30, l1Cdf: [], rawCdf: [] },
        redisGets: { ids: 10_000, zipfS: 1, reads: 100_000, concurrency: 8, withoutL1: arm(100_000), withL1: arm(withGets), reduction: 1 - withGets / 100_000, modelledL1HitRatio: 0.9 },
        staleness: { writes: 30, readerReads: 1000, staleReads: 10, ageMs: sum(500, worstMs), worstMs, ownWriteStaleReads: 0 },
      },
    });
    const byId = (t: ReturnType<typeof targets>) => Object.fromEntries(t.filter((x) => x.id.startsWith("l1-")).map((x) => [x.id, x.pass]));
    expect(byId(l1(1, 28_000, 990))).toEqual({ "l1-p50": true, "l1-gets": true, "l1-staleness": true });
    expect(byId(l1(3.5, 51_000, 1_051))).toEqual({ "l1-p50": false, "l1-gets": false, "l1-staleness": false });
    expect(l1(3.5, 51_000, 1_051).filter((x) => x.id.startsWith("l1-")).every((x) => typeof x.why === "string")).toBe(true);
  });

  test("the warming target: a warmed cold start reaches 90 % in ≤ 0.1× the reads; never reaching it fails", () => {
    const arm = (readsTo90: number | null) => ({ readsTo90, secondsTo90: readsTo90 && 1, firstWindowHitRatio: 0.5, hitRatio: 0.8, tableReads: 1, timeline: [] });
    const warming = (warmed: number | null, cold: number | null) => targets({
      warming: {
        ids: 10_000, zipfS: 1, reads: 60_000, windowReads: 1_000, concurrency: 8, warmedIds: 5_000, warmedShare: 0.93,
        warm: { source: "ids", requested: 5_000, loaded: 5_000, cached: 0, notFound: 0, bypassed: 0, failed: 0, ms: 4_000 },
        withoutWarming: arm(cold), withWarming: arm(warmed),
      },
    }).find((x) => x.id === "warming")!;
    expect(warming(1_000, 30_000).pass).toBe(true);
    expect(warming(1_000, null).pass).toBe(true); // not within the run: measured against the whole run
    expect(warming(5_000, 30_000).pass).toBe(false);
    expect(warming(null, 30_000)).toEqual(expect.objectContaining({ pass: false, value: "never reached" }));
  });

  test("the chart is well-formed SVG without NaN", () => {
    const svg = renderChart("t", "s", [
      { kind: "cdf", title: "a & b", xLabel: "ms", series: [{ label: "x", color: "#000", points: cdfPoints([0.1, 0.2, 5, 40]) }] },
      { kind: "line", title: "l", xLabel: "s", yLabel: "hit", yPercent: true, yMin: 0, yMax: 1, series: [{ label: "h", color: "#111", points: [[0, 0.5], [1, 0.9]] }], bands: [{ from: 0.2, to: 0.4, label: "down" }], right: { label: "p99", series: [{ label: "p99", color: "#222", points: [[0, 3], [1, 9]] }] } },
      { kind: "bars", title: "b", groups: [{ label: "g", bars: [{ label: "one", value: 2, color: "#333", text: "2" }], limit: { value: 3, label: "max" } }] },
    ]);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    expect(svg).toContain("a &amp; b");
    expect((svg.match(/<g /g) ?? []).length).toBe(3);
  });
});
