/**
 * What a run reports: the targets (pass/fail lines, never a failure exit), the figures table (the
 * console and help/performance.md show the same rows) and the chart's panels.
 */
import type { BackendsResult } from "./backends";
import type { BundleResult } from "./bundle";
import { ZIP_BUDGET_BYTES } from "./bundle";
import { COLORS, Panel, renderChart } from "./chart";
import type { FailoverResult } from "./failover";
import type { HitRatioResult } from "./hit-ratio";
import type { InvalidationResult } from "./invalidation";
import type { L1Result } from "./l1";
import type { LatencyResult } from "./latency";
import type { MachineFacts } from "./machine";
import type { StampedeResult } from "./stampede";
import type { SynthResult } from "./synth";
import type { WarmingResult } from "./warming";
import { fmtBytes, fmtMs, fmtPct, fmtRatio } from "./stats";

export interface Scenarios {
  synth?: SynthResult;
  bundle?: BundleResult;
  latency?: LatencyResult;
  hitRatio?: HitRatioResult;
  stampede?: StampedeResult;
  failover?: FailoverResult;
  backends?: BackendsResult;
  invalidation?: InvalidationResult;
  l1?: L1Result;
  warming?: WarmingResult;
}

export interface Target {
  readonly id: string;
  readonly scenario: number;
  readonly label: string;
  readonly value: string;
  readonly threshold: string;
  /** null when the scenario did not run. */
  readonly pass: boolean | null;
  /** "info" lines are context for a target, not targets. */
  readonly kind: "target" | "info";
  readonly note: string;
  /** Why a target was missed, from this run's figures (only on a failed target). */
  readonly why?: string;
}

export interface BenchResults {
  readonly schema: 1;
  readonly mode: "full" | "quick";
  readonly command: string;
  readonly machine: MachineFacts;
  readonly durationSeconds: number;
  readonly scenarioSeconds: Record<string, number>;
  readonly errors: Record<string, string>;
  readonly targets: Target[];
  readonly scenarios: Scenarios;
}

const SYNTH_MAX_RATIO = 0.35;
const HIT_P50_MAX_RATIO = 1.25;
const MIN_HIT_RATIO = 0.97;
/** The acceptance's bound on how long a change may be served stale, through the stream alone. */
const MAX_INVALIDATION_LAG_MS = 2_000;
/** The L1's acceptance: a hit at most a tenth of a Redis round trip, half the GETs gone, staleness within its TTL. */
const L1_P50_MAX_RATIO = 0.1;
const L1_MIN_GET_REDUCTION = 0.5;
const L1_STALENESS_SLACK_MS = 50;
/** Warming must reach the hit ratio in at most this share of the reads a cold start needs. */
const WARMING_MAX_READS_RATIO = 0.1;

export function targets(s: Scenarios, mode: "full" | "quick" = "full"): Target[] {
  const t: Target[] = [];
  const quickNote = mode === "quick" ? " A --quick run uses reduced counts; only full runs are meant to meet the targets." : "";
  const sy = s.synth;
  t.push({
    id: "synth-wall", scenario: 1, kind: "target", label: "synth wall time, project ÷ naive (medians)",
    value: sy ? sy.wallRatio.toFixed(3) : "not run", threshold: `≤ ${SYNTH_MAX_RATIO}`, pass: sy ? sy.wallRatio <= SYNTH_MAX_RATIO : null,
    note: sy ? `${fmtMs(sy.project.wallMs.p50)} vs ${fmtMs(sy.naive.wallMs.p50)}` : "",
    why: sy && sy.wallRatio > SYNTH_MAX_RATIO ? `the project's synth took ${fmtMs(sy.project.wallMs.p50)} (p99 ${fmtMs(sy.project.wallMs.p99)}): a busy machine stretches the short run more than the long one.${quickNote}` : undefined,
  });
  t.push({
    id: "synth-rss", scenario: 1, kind: "target", label: "synth peak RSS, project ÷ naive (medians)",
    value: sy ? sy.rssRatio.toFixed(3) : "not run", threshold: `≤ ${SYNTH_MAX_RATIO}`, pass: sy ? sy.rssRatio <= SYNTH_MAX_RATIO : null,
    note: sy ? `${sy.project.peakRssMB.p50} MB vs ${sy.naive.peakRssMB.p50} MB` : "",
    why: sy && sy.rssRatio > SYNTH_MAX_RATIO ? `the project's synth peaked at ${sy.project.peakRssMB.p50} MB: something now loads far more than the deep provider imports (check tests/meta/imports.test.ts).` : undefined,
  });
  const b = s.bundle;
  t.push({
    id: "bundle-size", scenario: 2, kind: "target", label: "largest handler bundle, zipped",
    value: b ? fmtBytes(b.largestZipBytes) : "not run", threshold: `≤ ${ZIP_BUDGET_BYTES / 1024} KB`, pass: b ? b.largestZipBytes <= ZIP_BUDGET_BYTES : null,
    note: b ? b.handlers.map((h) => `${h.name} ${fmtBytes(h.zipBytes)}`).join(", ") : "",
    why: b && b.largestZipBytes > ZIP_BUDGET_BYTES ? "a handler pulls in more code than before: look for a new dependency that is not external (@aws-sdk/* and @smithy/* are)." : undefined,
  });
  const l = s.latency?.inProcess;
  t.push({
    id: "hit-p50", scenario: 3, kind: "target", label: "handler cache hit p50 ÷ raw GET p50 (in process)",
    value: l ? l.p50Ratio.toFixed(3) : "not run", threshold: `≤ ${HIT_P50_MAX_RATIO}`, pass: l ? l.p50Ratio <= HIT_P50_MAX_RATIO : null,
    note: l ? `${l.handlerUs.p50} µs vs ${l.rawGetUs.p50} µs: the handler adds ${l.handlerOverheadP50Us} µs at p50 to a ${l.rawGetUs.p50} µs loopback round trip` : "",
    why: l && l.p50Ratio > HIT_P50_MAX_RATIO ? hitWhy(l) + quickNote : undefined,
  });
  const h = s.hitRatio;
  t.push({
    id: "hit-ratio", scenario: 4, kind: "target", label: "reads served from cache, after warm-up (second pass of the workload)",
    value: h ? fmtPct(h.warm.hitRatio, 2) : "not run", threshold: `≥ ${MIN_HIT_RATIO * 100} %`, pass: h ? h.warm.hitRatio >= MIN_HIT_RATIO : null,
    note: h ? `${h.warm.misses} misses in ${h.warm.reads.toLocaleString("en")} reads: ${h.warm.coldMisses} first reads of ids the first pass never drew, the rest re-reads after the 1 % writes invalidated` : "",
    why: h && h.warm.hitRatio < MIN_HIT_RATIO
      ? `${h.warm.coldMisses} of the second pass's ${h.warm.misses} misses are ids the first pass (${h.readsPerPhase.toLocaleString("en")} reads) never drew: the long tail of Zipf(${h.zipfS.toFixed(1)}) over ${h.ids.toLocaleString("en")} ids is still filling. Without them the ratio is ${fmtPct(h.warm.hitRatioExcludingColdMisses, 2)}.${quickNote}`
      : undefined,
  });
  t.push({
    id: "hit-ratio-cold", scenario: 4, kind: "info", label: "reads served from cache, from a cold cache (cold misses included)",
    value: h ? fmtPct(h.coldStart.hitRatio, 2) : "not run", threshold: `(≥ ${MIN_HIT_RATIO * 100} % not expected)`, pass: h ? h.coldStart.hitRatio >= MIN_HIT_RATIO : null,
    note: h ? `${h.coldStart.coldMisses} of its ${h.coldStart.misses} misses are first reads of an id (${fmtPct(h.coldStart.hitRatioExcludingColdMisses, 2)} without them)` : "",
  });
  const st = s.stampede;
  t.push({
    id: "stampede", scenario: 5, kind: "target", label: `table reads per burst of ${st?.concurrentReads ?? 200} cold reads, with protection (worst burst)`,
    value: st ? String(st.withProtection.tableReads.max) : "not run", threshold: "≤ 1", pass: st ? st.withProtection.tableReads.max <= 1 : null,
    note: st ? `without: ${st.withoutProtection.tableReads.p50} (median burst)` : "",
    why: st && st.withProtection.tableReads.max > 1 ? `a burst made ${st.withProtection.tableReads.max} table reads: followers gave up after CACHE_LEASE_WAIT_MS (${st.leaseWaitMs} ms) before the lease holder filled the cache, which means the table read took that long on this machine.` : undefined,
  });
  const f = s.failover;
  t.push({
    id: "failover", scenario: 6, kind: "target", label: `failed requests while Redis is down for ${f?.outageSeconds ?? 5} s`,
    value: f ? String(f.failed) : "not run", threshold: "= 0", pass: f ? f.failed === 0 : null,
    note: f ? `of ${f.requests.toLocaleString("en")} requests` : "",
    why: f && f.failed > 0 ? `answers by status (0 = transport error): ${JSON.stringify(f.statusCounts)}.` : undefined,
  });
  const inv = s.invalidation;
  const invP99 = inv ? (inv.missing > 0 ? Infinity : inv.streamLagMs.p99) : NaN;
  t.push({
    id: "invalidation-lag", scenario: 8, kind: "target", label: "write straight to the table → cache entry gone, stream alone, p99",
    value: inv ? (inv.missing > 0 ? `${inv.missing} never invalidated` : fmtMs(inv.streamLagMs.p99)) : "not run",
    threshold: `≤ ${MAX_INVALIDATION_LAG_MS / 1000} s`, pass: inv ? invP99 <= MAX_INVALIDATION_LAG_MS : null,
    note: inv ? `p50 ${fmtMs(inv.streamLagMs.p50)} over ${inv.samples} writes; Lambda polls every ${inv.pollMs} ms; without the stream: the TTL, ${inv.ttlSeconds.min}–${inv.ttlSeconds.max} s` : "",
    why: inv && invP99 > MAX_INVALIDATION_LAG_MS
      ? `${inv.missing} of ${inv.samples} writes were not invalidated within 5 s, p99 ${fmtMs(inv.streamLagMs.p99)}: the invalidator fell behind (a slow machine, or a cache it could not reach).${quickNote}`
      : undefined,
  });
  const l1 = s.l1;
  t.push({
    id: "l1-p50", scenario: 9, kind: "target", label: "L1 hit p50 ÷ raw Redis GET p50 (in process)",
    value: l1 ? l1.latency.p50Ratio.toFixed(3) : "not run", threshold: `≤ ${L1_P50_MAX_RATIO}`, pass: l1 ? l1.latency.p50Ratio <= L1_P50_MAX_RATIO : null,
    note: l1 ? `${l1.latency.l1Us.p50} µs vs ${l1.latency.rawGetUs.p50} µs (the same read from Redis: ${l1.latency.redisTierUs.p50} µs; the handler's L1 hit: ${l1.latency.handlerL1Us.p50} µs)` : "",
    why: l1 && l1.latency.p50Ratio > L1_P50_MAX_RATIO ? `an L1 hit took ${l1.latency.l1Us.p50} µs at p50 against a ${l1.latency.rawGetUs.p50} µs loopback GET: the in-process path got slower (a copy or parse on the hit path?).${quickNote}` : undefined,
  });
  const g = l1?.redisGets;
  t.push({
    id: "l1-gets", scenario: 9, kind: "target", label: `Redis GETs per 100,000 Zipf(1.0) reads, cut by a ${l1 ? l1.ttlMs / 1000 : 1} s L1`,
    value: g ? fmtPct(g.reduction, 1) : "not run", threshold: `≥ ${L1_MIN_GET_REDUCTION * 100} %`, pass: g ? g.reduction >= L1_MIN_GET_REDUCTION : null,
    note: g ? `${g.withL1.getsPer100k.toLocaleString("en")} vs ${g.withoutL1.getsPer100k.toLocaleString("en")} GETs per 100,000 reads over ${g.ids.toLocaleString("en")} ids at ${g.withL1.readsPerSecond.toLocaleString("en")} reads/s in one container (a TTL cache at that rate: ${fmtPct(g.modelledL1HitRatio, 1)} L1 hits)` : "",
    why: g && g.reduction < L1_MIN_GET_REDUCTION ? `the L1 answered ${g.withL1.l1Hits} of ${g.reads} reads at ${g.withL1.readsPerSecond} reads/s: fewer reads per second per container means fewer repeats within the TTL.${quickNote}` : undefined,
  });
  const st9 = l1?.staleness;
  const staleMax = l1 ? l1.ttlMs + L1_STALENESS_SLACK_MS : NaN;
  t.push({
    id: "l1-staleness", scenario: 9, kind: "target", label: "worst age of a value served by another container's L1 after a write",
    value: st9 ? fmtMs(st9.worstMs) : "not run", threshold: `≤ L1 TTL + ${L1_STALENESS_SLACK_MS} ms = ${l1 ? fmtMs(staleMax) : "?"}`, pass: st9 ? st9.worstMs <= staleMax : null,
    note: st9 ? `${st9.writes} writes, ${st9.staleReads.toLocaleString("en")} stale reads of ${st9.readerReads.toLocaleString("en")}; p50 ${fmtMs(st9.ageMs.p50)}; the writer's own reads after its writes: ${st9.ownWriteStaleReads} stale` : "",
    why: st9 && st9.worstMs > staleMax ? `a reader served an older version ${fmtMs(st9.worstMs)} after the write was acknowledged: an entry outlived its TTL in the L1, or a fill that lost its lease reached the L1.` : undefined,
  });
  const w = s.warming;
  const warmRatio = w ? (w.withWarming.readsTo90 === null ? Infinity : w.withWarming.readsTo90 / (w.withoutWarming.readsTo90 ?? w.reads)) : NaN;
  const readsTo = (n: number | null, total: number) => (n === null ? `not within ${total.toLocaleString("en")} reads` : `${n.toLocaleString("en")} reads`);
  t.push({
    id: "warming", scenario: 10, kind: "target", label: "reads from a cold start to a 90 % hit ratio, warmed ÷ not warmed",
    value: w ? (Number.isFinite(warmRatio) ? warmRatio.toFixed(3) : "never reached") : "not run", threshold: `≤ ${WARMING_MAX_READS_RATIO}`, pass: w ? warmRatio <= WARMING_MAX_READS_RATIO : null,
    note: w ? `${readsTo(w.withWarming.readsTo90, w.reads)} after warming the top ${w.warmedIds.toLocaleString("en")} ids (${fmtPct(w.warmedShare, 1)} of the reads; the warm run took ${fmtMs(w.warm.ms)}) vs ${readsTo(w.withoutWarming.readsTo90, w.reads)} without; first window ${fmtPct(w.withWarming.firstWindowHitRatio, 1)} vs ${fmtPct(w.withoutWarming.firstWindowHitRatio, 1)}` : "",
    why: w && !(warmRatio <= WARMING_MAX_READS_RATIO) ? `the warm run loaded ${w.warm.loaded} of ${w.warmedIds} ids (${w.warm.failed} failed, ${w.warm.bypassed} bypassed): fewer than configured, or the tail outside the warmed set draws more than 10 % of the reads.` : undefined,
  });
  return t;
}

function hitWhy(l: NonNullable<LatencyResult["inProcess"]>): string {
  const layer = (n: string) => l.layers.find((x) => x.name === n)?.p50Us ?? NaN;
  const steps = [
    ["the project's client options", layer("projectClient") - l.rawGetUs.p50],
    ["RedisCacheStore", layer("store") - layer("projectClient")],
    ["the breaker and its deadline timer", layer("breaker") - layer("store")],
    ["CacheAside.read", layer("cacheAside") - layer("breaker")],
    ["the handler (routing, response JSON, the EMF line)", l.handlerUs.p50 - layer("cacheAside")],
  ] as const;
  const needed = l.handlerOverheadP50Us / (HIT_P50_MAX_RATIO - 1);
  return `a cache hit through the handler costs ${l.handlerOverheadP50Us} µs more than the raw GET at p50 (${steps.map(([n, v]) => `${n} ${Number.isFinite(v) ? v.toFixed(1) : "?"} µs`).join(", ")}), and here it is compared with a ${l.rawGetUs.p50} µs loopback round trip. A fixed cost is a ratio only against a round trip: the target holds for round trips of ${Math.round(needed)} µs or more, and any network hop to ElastiCache is slower than loopback. The cost is real CPU per hit, though, and the layers show where it goes.`;
}

export interface Row {
  readonly scenario: string;
  readonly measure: string;
  readonly ours: string;
  readonly baseline: string;
  readonly ratio: string;
}

const us = (v: number) => `${Math.round(v)} µs`;
const signedMs = (ms: number) => (ms < 0 ? `−${fmtMs(-ms)}` : fmtMs(ms));
const pair = (a: string, b: string) => `${a} / ${b}`;

export function rows(s: Scenarios): Row[] {
  const r: Row[] = [];
  if (s.synth) {
    const x = s.synth;
    r.push({ scenario: "1 synth", measure: `wall time, median (p99) of ${x.runs}`, ours: `${fmtMs(x.project.wallMs.p50)} (${fmtMs(x.project.wallMs.p99)})`, baseline: `${fmtMs(x.naive.wallMs.p50)} (${fmtMs(x.naive.wallMs.p99)})`, ratio: fmtRatio(x.wallRatio) });
    r.push({ scenario: "1 synth", measure: "peak RSS, median (p99)", ours: `${x.project.peakRssMB.p50} MB (${x.project.peakRssMB.p99})`, baseline: `${x.naive.peakRssMB.p50} MB (${x.naive.peakRssMB.p99})`, ratio: fmtRatio(x.rssRatio) });
  }
  if (s.bundle) {
    const x = s.bundle;
    for (const h of x.handlers) {
      r.push({ scenario: `2 bundle ${h.name}`, measure: "zipped size", ours: fmtBytes(h.zipBytes), baseline: fmtBytes(x.baseline.zipBytes), ratio: fmtRatio(h.zipBytes / x.baseline.zipBytes) });
      r.push({ scenario: `2 bundle ${h.name}`, measure: `require() in a fresh process, p50 (p99) of ${x.processes}`, ours: `${fmtMs(h.requireMs.p50)} (${fmtMs(h.requireMs.p99)})`, baseline: `${fmtMs(x.baseline.requireMs.p50)} (${fmtMs(x.baseline.requireMs.p99)})`, ratio: fmtRatio(x.requireRatios[h.name]) });
      r.push({ scenario: `2 bundle ${h.name}`, measure: "whole process (spawn → exit), p50", ours: fmtMs(h.processMs.p50), baseline: fmtMs(x.baseline.processMs.p50), ratio: fmtRatio(x.processRatios[h.name]) });
    }
  }
  if (s.latency) {
    const x = s.latency.inProcess;
    r.push({ scenario: "3 cache hit, in process", measure: `p50 / p99 of ${x.samplesEach.toLocaleString("en")}`, ours: pair(us(x.handlerUs.p50), us(x.handlerUs.p99)), baseline: pair(us(x.rawGetUs.p50), us(x.rawGetUs.p99)), ratio: pair(fmtRatio(x.p50Ratio), fmtRatio(x.p99Ratio)) });
    const layer = (n: string) => x.layers.find((l) => l.name === n);
    r.push({
      scenario: "3 cache hit, layers",
      measure: "p50: project client, store, breaker, cache-aside",
      ours: ["projectClient", "store", "breaker", "cacheAside"].map((n) => us(layer(n)?.p50Us ?? NaN)).join(", "),
      baseline: us(x.rawGetUs.p50),
      ratio: ["projectClient", "store", "breaker", "cacheAside"].map((n) => fmtRatio(layer(n)?.p50RatioToRaw ?? NaN)).join(", "),
    });
    for (const lv of s.latency.http.levels) {
      r.push({ scenario: `3 HTTP, ${lv.connections} conn.`, measure: "p50 / p99", ours: pair(fmtMs(lv.twin.latencyMs.p50), fmtMs(lv.twin.latencyMs.p99)), baseline: pair(fmtMs(lv.raw.latencyMs.p50), fmtMs(lv.raw.latencyMs.p99)), ratio: pair(fmtRatio(lv.p50Ratio), fmtRatio(lv.p99Ratio)) });
      r.push({ scenario: `3 HTTP, ${lv.connections} conn.`, measure: "throughput (failed)", ours: `${lv.twin.requestsPerSecond} req/s (${lv.twin.failed})`, baseline: `${lv.raw.requestsPerSecond} req/s (${lv.raw.failed})`, ratio: fmtRatio(lv.throughputRatio) });
    }
  }
  if (s.hitRatio) {
    const x = s.hitRatio;
    for (const [name, p] of [["cold cache", x.coldStart], ["warm cache", x.warm]] as const) {
      r.push({ scenario: `4 hit ratio, ${name}`, measure: `from cache; table reads / 1,000 reads`, ours: `${fmtPct(p.hitRatio, 2)}; ${p.tableReadsPer1000}`, baseline: `0 %; ${x.noCache.tableReadsPer1000}`, ratio: fmtRatio(p.tableReadsPer1000 / x.noCache.tableReadsPer1000) });
    }
    r.push({ scenario: "4 hit ratio", measure: "read latency p50 / p99 (warm)", ours: pair(fmtMs(x.warm.readLatencyMs.p50), fmtMs(x.warm.readLatencyMs.p99)), baseline: pair(fmtMs(x.noCache.readLatencyMs.p50), fmtMs(x.noCache.readLatencyMs.p99)), ratio: fmtRatio(x.warm.readLatencyMs.p50 / x.noCache.readLatencyMs.p50) });
    r.push({ scenario: "4 offload", measure: "RRU saved per million reads (warm)", ours: `${x.savings.rruSavedPerMillionReadsWarm.toLocaleString("en")} RRU = $${x.savings.usdSavedPerMillionReadsWarm} ($${x.savings.usdSavedPerBillionReadsWarm} per billion)`, baseline: `${(x.savings.rruPerTableRead * 1e6).toLocaleString("en")} RRU spent`, ratio: "" });
  }
  if (s.stampede) {
    const x = s.stampede;
    r.push({ scenario: `5 stampede (${x.concurrentReads} reads)`, measure: `table reads per burst, median (worst) of ${x.bursts}`, ours: `${x.withProtection.tableReads.p50} (${x.withProtection.tableReads.max})`, baseline: `${x.withoutProtection.tableReads.p50} (${x.withoutProtection.tableReads.max})`, ratio: fmtRatio(x.withProtection.tableReads.p50 / x.withoutProtection.tableReads.p50) });
    r.push({ scenario: `5 stampede (${x.concurrentReads} reads)`, measure: "latency p50 / p99", ours: pair(fmtMs(x.withProtection.latencyMs.p50), fmtMs(x.withProtection.latencyMs.p99)), baseline: pair(fmtMs(x.withoutProtection.latencyMs.p50), fmtMs(x.withoutProtection.latencyMs.p99)), ratio: fmtRatio(x.withProtection.latencyMs.p99 / x.withoutProtection.latencyMs.p99) });
  }
  if (s.failover) {
    const x = s.failover;
    r.push({ scenario: "6 failover", measure: `failed of ${x.requests.toLocaleString("en")} requests`, ours: String(x.failed), baseline: "", ratio: "" });
    r.push({ scenario: "6 failover", measure: "p50 / p99: before, during the outage", ours: pair(fmtMs(x.latencyMs.during.p50), fmtMs(x.latencyMs.during.p99)), baseline: `${pair(fmtMs(x.latencyMs.before.p50), fmtMs(x.latencyMs.before.p99))} (before)`, ratio: fmtRatio(x.latencyMs.during.p99 / x.latencyMs.before.p99) });
    r.push({ scenario: "6 failover", measure: "after the restart: first HIT; hit ratio ≥ 95 % of before", ours: `${x.firstHitAfterRestartSeconds ?? "none"} s; ${x.recoverySeconds === null ? "not within the run" : `${x.recoverySeconds} s`}`, baseline: `${fmtPct(x.hitRatioBefore)} before`, ratio: "" });
  }
  if (s.invalidation) {
    const x = s.invalidation;
    r.push({ scenario: "8 invalidation (stream)", measure: `write ack → entry gone, p50 / p99 / max of ${x.samples}`, ours: `${pair(fmtMs(x.streamLagMs.p50), fmtMs(x.streamLagMs.p99))} / ${fmtMs(x.streamLagMs.max)}`, baseline: `TTL ${x.ttlSeconds.min}–${x.ttlSeconds.max} s without the stream`, ratio: "" });
    r.push({ scenario: "8 invalidation (write path)", measure: `API PUT answered → entry gone, p50 / p99 of ${x.writePath.samples} (negative: before the answer)`, ours: pair(signedMs(x.writePath.lagMs.p50), signedMs(x.writePath.lagMs.p99)), baseline: "", ratio: "" });
  }
  if (s.l1) {
    const x = s.l1;
    r.push({ scenario: "9 L1 hit, in process", measure: `p50 / p99 of ${x.latency.samplesEach.toLocaleString("en")}`, ours: pair(us(x.latency.l1Us.p50), us(x.latency.l1Us.p99)), baseline: `${pair(us(x.latency.rawGetUs.p50), us(x.latency.rawGetUs.p99))} (raw GET)`, ratio: fmtRatio(x.latency.p50Ratio) });
    r.push({ scenario: "9 L1 hit, in process", measure: "p50: same read from Redis; handler's L1 hit", ours: `${us(x.latency.redisTierUs.p50)}; ${us(x.latency.handlerL1Us.p50)}`, baseline: us(x.latency.rawGetUs.p50), ratio: `${fmtRatio(x.latency.redisTierUs.p50 / x.latency.rawGetUs.p50)}; ${fmtRatio(x.latency.handlerL1Us.p50 / x.latency.rawGetUs.p50)}` });
    const g = x.redisGets;
    r.push({ scenario: `9 L1 ${x.ttlMs / 1000} s, Zipf(${g.zipfS.toFixed(1)})`, measure: `Redis GETs per 100,000 reads (L1 hits), ${g.reads.toLocaleString("en")} reads`, ours: `${g.withL1.getsPer100k.toLocaleString("en")} (${g.withL1.l1Hits.toLocaleString("en")})`, baseline: `${g.withoutL1.getsPer100k.toLocaleString("en")} (no L1)`, ratio: fmtRatio(g.withL1.redisGets / g.withoutL1.redisGets) });
    r.push({ scenario: "9 L1 staleness", measure: `after another container's write: worst / p50 of ${x.staleness.writes} writes`, ours: pair(fmtMs(x.staleness.worstMs), fmtMs(x.staleness.ageMs.p50)), baseline: `TTL ${fmtMs(x.ttlMs)}`, ratio: fmtRatio(x.staleness.worstMs / x.ttlMs) });
  }
  if (s.warming) {
    const x = s.warming;
    const n = (v: number | null) => (v === null ? `> ${x.reads.toLocaleString("en")}` : v.toLocaleString("en"));
    r.push({ scenario: "10 cold start", measure: `reads (s) to a 90 % window of ${x.windowReads.toLocaleString("en")} reads`, ours: `${n(x.withWarming.readsTo90)} (${x.withWarming.secondsTo90 ?? "–"} s incl. the warm run)`, baseline: `${n(x.withoutWarming.readsTo90)} (${x.withoutWarming.secondsTo90 ?? "–"} s), not warmed`, ratio: x.withWarming.readsTo90 !== null && x.withoutWarming.readsTo90 !== null ? fmtRatio(x.withWarming.readsTo90 / x.withoutWarming.readsTo90) : "" });
    r.push({ scenario: "10 cold start", measure: `hit ratio over all reads; table reads; warm run (${x.warmedIds.toLocaleString("en")} ids)`, ours: `${fmtPct(x.withWarming.hitRatio, 1)}; ${x.withWarming.tableReads.toLocaleString("en")}; ${fmtMs(x.warm.ms)}`, baseline: `${fmtPct(x.withoutWarming.hitRatio, 1)}; ${x.withoutWarming.tableReads.toLocaleString("en")}`, ratio: "" });
  }
  if (s.backends) {
    for (const b of s.backends.backends) {
      r.push({ scenario: `7 backend ${b.backend}`, measure: `p50 / p99 at 1 client; req/s at ${b.throughput.concurrency}`, ours: `${pair(fmtMs(b.latencyMs.p50), fmtMs(b.latencyMs.p99))}; ${b.throughput.requestsPerSecond}`, baseline: "", ratio: `hits ${fmtPct(b.hitRatio)}` });
    }
  }
  return r;
}

function widths(all: string[][]): number[] {
  return all[0].map((_, i) => Math.max(...all.map((r) => r[i].length)));
}

export function consoleTable(s: Scenarios): string {
  const head = ["scenario", "measure", "cachefront", "baseline", "ratio"];
  const body = rows(s).map((r) => [r.scenario, r.measure, r.ours, r.baseline, r.ratio]);
  const w = widths([head, ...body]);
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join("  ").trimEnd();
  return [line(head), w.map((n) => "-".repeat(n)).join("  "), ...body.map(line)].join("\n");
}

export function targetLines(ts: readonly Target[]): string[] {
  return ts.map((t) => {
    const mark = t.pass === null ? "SKIP" : t.kind === "info" ? "info" : t.pass ? "PASS" : "FAIL";
    const line = `${mark.padEnd(4)}  [${t.scenario}] ${t.label}: ${t.value} (target ${t.threshold})${t.note ? ` — ${t.note}` : ""}`;
    return t.why && t.pass === false && t.kind === "target" ? `${line}\n        why: ${t.why}` : line;
  });
}

const cell = (s: string) => s.replace(/\|/g, "\\|");

/** The generated part of help/performance.md. */
export function pageSection(res: BenchResults, chartPath: string): string {
  const m = res.machine;
  const out: string[] = [];
  out.push(`Latest ${res.mode === "quick" ? "**quick** (reduced counts) " : ""}run: ${m.date.slice(0, 10)}, ${m.cpuModel}, ${m.cores} cores, ${m.memoryGB} GB, Node.js ${m.node}, redis-server ${m.redisServer}, load average ${m.loadAverageAtStart} at the start; the whole run took ${Math.round(res.durationSeconds)} s.`);
  out.push("");
  out.push("| | target | measured | |");
  out.push("|---|---|---|---|");
  for (const t of res.targets) {
    const mark = t.pass === null ? "not run" : t.kind === "info" ? "info" : t.pass ? "✅ pass" : "❌ fail";
    out.push(`| ${t.scenario} | ${cell(t.label)} ${cell(t.threshold)} | **${cell(t.value)}** — ${cell(t.note)} | ${mark} |`);
  }
  const missed = res.targets.filter((t) => t.pass === false && t.kind === "target" && t.why);
  if (missed.length) {
    out.push("");
    out.push("Missed in this run:");
    out.push("");
    for (const t of missed) out.push(`- **[${t.scenario}] ${t.label}**: ${t.why}`);
  }
  out.push("");
  out.push("| scenario | measure | cachefront | baseline | ratio |");
  out.push("|---|---|---|---|---|");
  for (const r of rows(res.scenarios)) out.push(`| ${cell(r.scenario)} | ${cell(r.measure)} | ${cell(r.ours)} | ${cell(r.baseline)} | ${cell(r.ratio)} |`);
  if (Object.keys(res.errors).length) {
    out.push("");
    for (const [k, v] of Object.entries(res.errors)) out.push(`- scenario **${k}** failed: \`${v.split("\n")[0]}\``);
  }
  out.push("");
  out.push(`![Latency distributions, hit ratio over time](${chartPath})`);
  return out.join("\n");
}

export const PAGE_BEGIN = "<!-- bench:figures:begin (generated by npm run bench; do not edit by hand) -->";
export const PAGE_END = "<!-- bench:figures:end -->";

/** Replaces the generated section of a page; throws when the markers are missing. */
export function replaceSection(page: string, section: string): string {
  const a = page.indexOf(PAGE_BEGIN);
  const b = page.indexOf(PAGE_END);
  if (a < 0 || b < a) throw new Error("the page has no bench:figures markers");
  return `${page.slice(0, a + PAGE_BEGIN.length)}\n${section}\n${page.slice(b)}`;
}

export function chart(res: BenchResults): string {
  const s = res.scenarios;
  const [c0, c1, c2, c3] = COLORS;
  const panels: Panel[] = [];
  if (s.synth) {
    const x = s.synth;
    panels.push({
      kind: "bars", title: `1 · Synth all ${x.stacks.length} stacks (median of ${x.runs})`,
      groups: [
        { label: "wall time (s)", bars: [
          { label: "node dist/main.js", value: x.project.wallMs.p50 / 1000, color: c0, text: `${(x.project.wallMs.p50 / 1000).toFixed(2)} s` },
          { label: "ts-node, root import", value: x.naive.wallMs.p50 / 1000, color: c1, text: `${(x.naive.wallMs.p50 / 1000).toFixed(2)} s` },
        ] },
        { label: "peak RSS (MB)", bars: [
          { label: "node dist/main.js", value: x.project.peakRssMB.p50, color: c0, text: `${x.project.peakRssMB.p50} MB` },
          { label: "ts-node, root import", value: x.naive.peakRssMB.p50, color: c1, text: `${x.naive.peakRssMB.p50} MB` },
        ] },
      ],
      note: `ratios ${x.wallRatio} (time), ${x.rssRatio} (RSS); target ≤ 0.35`,
    });
  }
  if (s.bundle) {
    const x = s.bundle;
    const all = [...x.handlers, x.baseline];
    panels.push({
      kind: "bars", title: "2 · Bundles: zipped size",
      groups: [{ label: "KB zipped", bars: all.map((h, i) => ({ label: h.name.replace(" (ioredis + client-dynamodb)", ""), value: h.zipBytes / 1024, color: COLORS[i], text: `${(h.zipBytes / 1024).toFixed(1)} KB` })), limit: { value: ZIP_BUDGET_BYTES / 1024, label: "budget 350 KB" } }],
      note: "bare = ioredis + @aws-sdk/client-dynamodb only",
    });
    panels.push({
      kind: "cdf", title: `2 · Cold start: require() in a fresh process (${x.processes}×)`, xLabel: "ms",
      series: all.map((h, i) => ({ label: h.name.replace(" (ioredis + client-dynamodb)", ""), color: COLORS[i], points: h.requireCdf })),
    });
  }
  if (s.latency) {
    const x = s.latency.inProcess;
    panels.push({
      kind: "cdf", title: "3 · Cache hit in process", xLabel: "µs",
      series: [{ label: "handler (cache hit)", color: c0, points: x.handlerCdf }, { label: "raw ioredis GET", color: c1, points: x.rawCdf }],
      note: `p50 ${x.handlerUs.p50} vs ${x.rawGetUs.p50} µs (${x.p50Ratio}×)`,
    });
    const lv = s.latency.http.levels;
    panels.push({
      kind: "cdf", title: "3 · Cache hit over HTTP (autocannon)", xLabel: "ms",
      series: lv.flatMap((l, i) => [
        { label: `twin, ${l.connections} conn.`, color: i === 0 ? c0 : c2, points: l.twin.cdf },
        { label: `raw GET server, ${l.connections} conn.`, color: i === 0 ? c1 : c3, points: l.raw.cdf, dashed: true },
      ]),
    });
  }
  if (s.hitRatio) {
    const x = s.hitRatio;
    const cold = x.coldStart.timeline;
    const warm = x.warm.timeline.map(([n, v]) => [n + x.coldStart.reads, v] as [number, number]);
    const lowest = Math.min(...cold.map(([, v]) => v), ...warm.map(([, v]) => v));
    panels.push({
      kind: "line", title: `4 · Hit ratio: Zipf(${x.zipfS.toFixed(1)}) over ${x.ids.toLocaleString("en")} ids, 1 % writes`, xLabel: "reads", yLabel: `hit ratio per ${x.windowReads.toLocaleString("en")} reads`, yPercent: true,
      yMin: Math.max(0, Math.floor(lowest * 10) / 10), yMax: 1,
      series: [{ label: "first pass (cold cache)", color: c1, points: cold }, { label: "second pass (warm)", color: c0, points: warm }],
      hlines: [{ y: MIN_HIT_RATIO, label: "target 97 %" }],
      note: `overall ${fmtPct(x.coldStart.hitRatio)} cold, ${fmtPct(x.warm.hitRatio)} warm`,
    });
  }
  if (s.stampede) {
    const x = s.stampede;
    panels.push({
      kind: "cdf", title: `5 · Stampede: ${x.concurrentReads} reads of a cold key`, xLabel: "ms from the burst's start",
      series: [
        { label: `lease (${x.withProtection.tableReads.max} table read max)`, color: c0, points: x.withProtection.cdf },
        { label: `naive get→load→set (${x.withoutProtection.tableReads.p50} reads)`, color: c1, points: x.withoutProtection.cdf },
      ],
    });
  }
  if (s.failover) {
    const x = s.failover;
    panels.push({
      kind: "line", title: "6 · Failover: Redis killed, restarted empty", xLabel: "seconds", yLabel: `hit ratio per ${x.windowMs} ms`, yPercent: true, yMin: 0, yMax: 1,
      series: [{ label: "hit ratio", color: c0, points: x.timeline.map(([t, hr]) => [t, hr] as [number, number]) }],
      right: { label: "p99 latency (ms)", series: [{ label: "p99 (ms)", color: c1, dashed: true, points: x.timeline.map(([t, , p99]) => [t, p99] as [number, number]) }] },
      bands: [{ from: x.killedAt, to: x.restartedAt, label: "redis-server down" }],
      note: `${x.failed} failed of ${x.requests.toLocaleString("en")}; recovered ${x.recoverySeconds ?? "n/a"} s after restart`,
    });
  }
  if (s.backends) {
    panels.push({
      kind: "cdf", title: "7 · Cache backends: handler hit at 1 client", xLabel: "ms",
      series: s.backends.backends.map((b, i) => ({ label: `${b.backend} (${b.throughput.requestsPerSecond} req/s at ${b.throughput.concurrency})`, color: COLORS[i], points: b.cdf })),
    });
  }
  if (s.invalidation) {
    const x = s.invalidation;
    panels.push({
      kind: "cdf", title: "8 · Invalidation lag: write straight to the table → entry gone", xLabel: "ms",
      series: [{ label: `stream alone (${x.samples} writes)`, color: c0, points: x.cdf }],
      note: `p50 ${fmtMs(x.streamLagMs.p50)}, p99 ${fmtMs(x.streamLagMs.p99)}; Lambda polls every ${x.pollMs} ms`,
    });
  }
  if (s.l1) {
    const x = s.l1.latency;
    panels.push({
      kind: "cdf", title: "9 · L1 hit vs raw Redis GET, in process", xLabel: "µs",
      series: [{ label: "L1 hit (CacheAside.read)", color: c0, points: x.l1Cdf }, { label: "raw ioredis GET", color: c1, points: x.rawCdf }],
      note: `p50 ${x.l1Us.p50} vs ${x.rawGetUs.p50} µs (${x.p50Ratio}×); target ≤ 0.1×`,
    });
  }
  if (s.warming) {
    const x = s.warming;
    panels.push({
      kind: "line", title: `10 · Cold start: warmed top ${x.warmedIds.toLocaleString("en")} vs not warmed`, xLabel: "reads", yLabel: `hit ratio per ${x.windowReads.toLocaleString("en")} reads`, yPercent: true, yMin: 0, yMax: 1,
      series: [{ label: "warmed first", color: c0, points: x.withWarming.timeline }, { label: "not warmed", color: c1, points: x.withoutWarming.timeline }],
      hlines: [{ y: 0.9, label: "90 %" }],
    });
  }
  const m = res.machine;
  return renderChart(
    `cachefront benchmark — ${res.mode} run, ${m.date.slice(0, 10)}`,
    `${m.cpuModel}, ${m.cores} cores, ${m.memoryGB} GB, Node.js ${m.node}; every scenario against its baseline in the same run`,
    panels,
  );
}
