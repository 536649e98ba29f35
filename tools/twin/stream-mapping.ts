/**
 * Lambda's event source mappings of DynamoDB streams, on this machine:
 *
 *   const delivery = new StreamDelivery(mapping, stream, (event, id) => pool.invoke(event, id), { … });
 *   delivery.start();  …  await delivery.stop();
 *
 * As Lambda documents it for DynamoDB streams: records go to one of
 * `parallelizationFactor` lanes by partition key (so one key's changes stay in order) and are
 * polled 4 times a second; a batch is at most `batchSize` records, or what arrived within the
 * batching window. A success checkpoints the batch. A partial batch response (with
 * ReportBatchItemFailures) checkpoints before the lowest failed sequence number and retries from
 * it; an invalid one, a thrown error, a timeout or a crash fails the whole batch, which is bisected
 * when BisectBatchOnFunctionError is on (a split costs no retry). After `maximumRetryAttempts`
 * retries, or once a record is older than `maximumRecordAgeInSeconds`, the records are dropped and
 * the invocation record Lambda sends to the on-failure destination is appended to a JSONL file.
 */
import { createHash, randomUUID } from "crypto";
import { appendFileSync, mkdirSync, writeFileSync } from "fs";
import * as path from "path";
import type { InvokeOutcome } from "./functions";
import { singleRef, StackModel, TableDef } from "./stack";
import type { Captured, StreamRecordJson, TableStream } from "./stream";

/** Lambda polls a DynamoDB stream's shards 4 times per second. */
export const POLL_INTERVAL_MS = 250;

/** Lambda's event source mapping of a DynamoDB stream, as the synthesized JSON declares it. */
export interface StreamMappingDef {
  readonly logicalId: string;
  readonly table: TableDef;
  /** The table's `stream_view_type`. */
  readonly viewType: string;
  readonly functionLogicalId: string;
  readonly enabled: boolean;
  readonly startingPosition: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly bisectOnError: boolean;
  /** -1: until the record expires. */
  readonly maximumRetryAttempts: number;
  /** -1: until the record expires. */
  readonly maximumRecordAgeSeconds: number;
  readonly parallelizationFactor: number;
  /** The on-failure destination: the queue's (or topic's) name, or absent. */
  readonly onFailure?: { readonly name: string; readonly logicalId?: string };
}

/** A block, written as an object or a one-element list. */
function block(v: unknown): Record<string, unknown> | undefined {
  const b = Array.isArray(v) ? v[0] : v;
  return b && typeof b === "object" ? (b as Record<string, unknown>) : undefined;
}
const numberOr = (v: unknown, d: number): number => (typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : d);

/** The stack's stream mappings the twin runs, and a line for each it cannot. */
export function readStreamMappings(model: StackModel): { mappings: StreamMappingDef[]; warnings: string[] } {
  const res = model.json.resource ?? {};
  const mappings: StreamMappingDef[] = [];
  const warnings: string[] = [];
  for (const [id, m] of Object.entries(res.aws_lambda_event_source_mapping ?? {})) {
    const source = singleRef(m.event_source_arn);
    if (!source || source.type !== "aws_dynamodb_table" || source.attr !== "stream_arn") {
      warnings.push(`event source mapping ${id}: only DynamoDB streams of this stack are emulated (${JSON.stringify(m.event_source_arn)})`);
      continue;
    }
    const table = model.tables.find((t) => t.logicalId === source.name);
    const tableJson = res.aws_dynamodb_table?.[source.name] ?? {};
    if (!table || !(tableJson.stream_enabled === true || tableJson.stream_enabled === "true")) {
      warnings.push(`event source mapping ${id}: table ${source.name} has no stream; nothing to deliver`);
      continue;
    }
    const fnRef = singleRef(m.function_name);
    const fn = fnRef?.type === "aws_lambda_function"
      ? model.functions.find((f) => f.logicalId === fnRef.name)
      : model.functions.find((f) => f.name === m.function_name);
    if (!fn) {
      warnings.push(`event source mapping ${id}: function ${JSON.stringify(m.function_name)} is not in this stack`);
      continue;
    }
    const dest = block(block(m.destination_config)?.on_failure)?.destination_arn;
    const destRef = singleRef(dest);
    const destConfig = destRef ? res[destRef.type]?.[destRef.name] : undefined;
    const onFailure = dest === undefined ? undefined
      : destRef ? { name: String(destConfig?.name ?? destRef.name), logicalId: destRef.name }
      : { name: String(dest).split(":").pop() || "on-failure" };
    mappings.push({
      logicalId: id,
      table,
      viewType: String(tableJson.stream_view_type ?? "KEYS_ONLY"),
      functionLogicalId: fn.logicalId,
      enabled: m.enabled !== false && m.enabled !== "false",
      startingPosition: String(m.starting_position ?? "LATEST"),
      batchSize: numberOr(m.batch_size, 100),
      batchingWindowSeconds: numberOr(m.maximum_batching_window_in_seconds, 0),
      reportBatchItemFailures: Array.isArray(m.function_response_types) && (m.function_response_types as unknown[]).includes("ReportBatchItemFailures"),
      bisectOnError: m.bisect_batch_on_function_error === true || m.bisect_batch_on_function_error === "true",
      maximumRetryAttempts: numberOr(m.maximum_retry_attempts, -1),
      maximumRecordAgeSeconds: numberOr(m.maximum_record_age_in_seconds, -1),
      parallelizationFactor: Math.max(1, numberOr(m.parallelization_factor, 1)),
      onFailure,
    });
  }
  return { mappings, warnings };
}

/** Runs one invocation of the mapping's function (the twin: its FunctionPool). */
export type StreamInvoker = (event: { Records: StreamRecordJson[] }, requestId: string) => Promise<InvokeOutcome>;

/** A batch on its way: its records, the retries spent on them and how often they were sent. */
interface Work {
  records: Captured[];
  retries: number;
  invocations: number;
}

/** One lane of a shard (parallelization factor): its records in order and its retries first. */
interface Lane {
  readonly pending: Captured[];
  readonly work: Work[];
  busy: boolean;
  timer?: NodeJS.Timeout;
  readonly startedAt: number;
}

/** What Lambda makes of an invocation's outcome. */
type Verdict = { kind: "success" } | { kind: "partial"; from: number } | { kind: "failure"; why: string };

/** Options of a {@link StreamDelivery}. */
export interface StreamDeliveryOptions {
  /** The function's ARN (the on-failure record names it). */
  readonly functionArn: string;
  /** JSONL file the on-failure records go to (created empty at start); absent without a destination. */
  readonly destinationFile?: string;
  /** One line about a failed or discarded batch. */
  readonly note: (line: string) => void;
  /** @default POLL_INTERVAL_MS */
  readonly pollMs?: number;
}

/** One event source mapping: reads `stream`, invokes the function, retries and gives up as Lambda does. */
export class StreamDelivery {
  private readonly lanes: Lane[] = [];
  private unsubscribe?: () => void;
  private stopped = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly pollMs: number;
  /** Batches handed to the function so far (tests read it). */
  invocations = 0;

  constructor(
    readonly def: StreamMappingDef,
    readonly stream: TableStream,
    private readonly invoke: StreamInvoker,
    private readonly opts: StreamDeliveryOptions,
  ) {
    this.pollMs = opts.pollMs ?? POLL_INTERVAL_MS;
  }

  /** Starts reading: with LATEST (and, the stream being as old as the twin, TRIM_HORIZON too) from now on. */
  start(): void {
    if (this.opts.destinationFile) {
      mkdirSync(path.dirname(this.opts.destinationFile), { recursive: true });
      writeFileSync(this.opts.destinationFile, "");
    }
    const now = Date.now();
    for (let i = 0; i < this.def.parallelizationFactor; i++) this.lanes.push({ pending: [], work: [], busy: false, startedAt: now });
    if (!this.def.enabled) return;
    this.unsubscribe = this.stream.subscribe((r) => {
      const lane = this.lanes[this.laneOf(r.partition)];
      lane.pending.push(r);
      if (!lane.busy && !lane.timer) this.schedule(lane, this.untilNextPoll(lane));
    });
  }

  /**
   * Stops polling. A batch in flight is abandoned, not waited for (it may be waiting out a cache
   * outage); stopping its function process ends it.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const l of this.lanes) if (l.timer) clearTimeout(l.timer);
  }

  /** Resolves once every record so far was delivered or given up on (tests). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private isIdle(): boolean {
    return this.lanes.every((l) => !l.busy && l.pending.length === 0 && l.work.length === 0);
  }

  private laneOf(partition: string): number {
    if (this.lanes.length === 1) return 0;
    return createHash("md5").update(partition).digest().readUInt32BE(0) % this.lanes.length;
  }

  private untilNextPoll(lane: Lane): number {
    return this.pollMs - ((Date.now() - lane.startedAt) % this.pollMs);
  }

  private schedule(lane: Lane, ms: number): void {
    if (this.stopped) return;
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = setTimeout(() => void this.tick(lane), Math.max(0, ms));
    lane.timer.unref?.();
  }

  private async tick(lane: Lane): Promise<void> {
    lane.timer = undefined;
    if (this.stopped || lane.busy) return;
    let work = lane.work.shift();
    if (!work) {
      if (lane.pending.length === 0) return this.checkIdle();
      const readyAt = lane.pending[0].arrivalMs + this.def.batchingWindowSeconds * 1000;
      if (lane.pending.length < this.def.batchSize && Date.now() < readyAt) return this.schedule(lane, Math.max(readyAt - Date.now(), this.untilNextPoll(lane)));
      work = { records: lane.pending.splice(0, this.def.batchSize), retries: 0, invocations: 0 };
    }
    lane.busy = true;
    let next: "now" | "poll" = "now";
    try {
      next = await this.process(lane, work);
    } catch (err) {
      this.opts.note(`stream: ${this.def.logicalId}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      lane.busy = false;
    }
    if (lane.work.length > 0 || lane.pending.length > 0) this.schedule(lane, next === "now" ? 0 : this.untilNextPoll(lane));
    else this.checkIdle();
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async process(lane: Lane, work: Work): Promise<"now" | "poll"> {
    const maxAge = this.def.maximumRecordAgeSeconds;
    if (maxAge >= 0) {
      const cutoff = Date.now() - maxAge * 1000;
      const expired = work.records.findIndex((r) => r.arrivalMs >= cutoff);
      const old = expired < 0 ? work.records : work.records.slice(0, expired);
      if (old.length > 0) {
        this.giveUp({ ...work, records: old }, "RecordAgeExceeded");
        work = { ...work, records: work.records.slice(old.length) };
        if (work.records.length === 0) return "now";
      }
    }
    work.invocations++;
    this.invocations++;
    const requestId = randomUUID();
    const outcome = await this.invoke({ Records: work.records.map((r) => r.record) }, requestId);
    if (this.stopped) return "now";
    const verdict = this.judge(outcome, work.records);
    const range = `${work.records[0].record.dynamodb.SequenceNumber}…${work.records[work.records.length - 1].record.dynamodb.SequenceNumber}`;
    if (verdict.kind === "success") return "now";
    if (verdict.kind === "partial") {
      const rest: Work = { records: work.records.slice(verdict.from), retries: work.retries + 1, invocations: work.invocations };
      this.opts.note(`stream: ${this.fnLabel()} reported record ${rest.records[0].record.dynamodb.SequenceNumber} of batch ${range} failed; ` +
        `${verdict.from} record(s) before it done`);
      return this.retryOrGiveUp(lane, rest, outcome);
    }
    this.opts.note(`stream: batch ${range} (${work.records.length} record(s)) failed: ${verdict.why}`);
    if (this.def.bisectOnError && work.records.length > 1) {
      const half = Math.ceil(work.records.length / 2);
      lane.work.unshift({ ...work, records: work.records.slice(0, half) }, { ...work, records: work.records.slice(half) });
      return "poll";
    }
    return this.retryOrGiveUp(lane, { ...work, retries: work.retries + 1 }, outcome);
  }

  private retryOrGiveUp(lane: Lane, work: Work, outcome: InvokeOutcome): "now" | "poll" {
    const max = this.def.maximumRetryAttempts;
    if (max >= 0 && work.retries > max) {
      this.giveUp(work, "RetryAttemptsExhausted", outcome);
      return "now";
    }
    lane.work.unshift(work);
    return "poll";
  }

  private fnLabel(): string {
    return this.opts.functionArn.split(":").pop() ?? this.def.functionLogicalId;
  }

  /** Lambda's reading of an invocation: success, a partial failure from a record on, or a failed batch. */
  private judge(outcome: InvokeOutcome, records: readonly Captured[]): Verdict {
    if (outcome.kind === "error") return { kind: "failure", why: `${outcome.error.errorType}: ${outcome.error.errorMessage}` };
    if (outcome.kind === "timeout") return { kind: "failure", why: `timed out after ${outcome.afterMs} ms` };
    if (outcome.kind === "crash") return { kind: "failure", why: outcome.detail };
    if (!this.def.reportBatchItemFailures) return { kind: "success" }; // Lambda ignores the response
    const result = outcome.result;
    if (result === null || result === undefined) return { kind: "success" };
    if (typeof result !== "object" || Array.isArray(result)) return { kind: "failure", why: `response ${JSON.stringify(result)} is not a batch response` };
    const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
    if (failures === undefined || failures === null) return { kind: "success" };
    if (!Array.isArray(failures)) return { kind: "failure", why: "batchItemFailures is not a list" };
    if (failures.length === 0) return { kind: "success" };
    const seqs = records.map((r) => r.record.dynamodb.SequenceNumber);
    let from = Infinity;
    for (const f of failures) {
      const id = f && typeof f === "object" && "itemIdentifier" in f ? (f as { itemIdentifier: unknown }).itemIdentifier : undefined;
      const at = typeof id === "string" && id !== "" ? seqs.indexOf(id) : -1;
      if (at < 0) return { kind: "failure", why: `batchItemFailures names ${JSON.stringify(f)}, not a sequence number of the batch` };
      from = Math.min(from, at);
    }
    return { kind: "partial", from };
  }

  /** Drops `work`'s records and writes the invocation record Lambda sends to the on-failure destination. */
  private giveUp(work: Work, condition: "RetryAttemptsExhausted" | "RecordAgeExceeded", outcome?: InvokeOutcome): void {
    const recs = work.records;
    const seq = (r: Captured) => r.record.dynamodb.SequenceNumber;
    const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
    const entry = {
      requestContext: { requestId: randomUUID(), functionArn: this.opts.functionArn, condition, approximateInvokeCount: work.invocations },
      responseContext: {
        statusCode: 200,
        executedVersion: "$LATEST",
        ...(outcome && outcome.kind !== "ok" ? { functionError: "Unhandled" } : {}),
      },
      version: "1.0",
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId: this.stream.shardId,
        startSequenceNumber: seq(recs[0]),
        endSequenceNumber: seq(recs[recs.length - 1]),
        approximateArrivalOfFirstRecord: iso(recs[0].arrivalMs),
        approximateArrivalOfLastRecord: iso(recs[recs.length - 1].arrivalMs),
        batchSize: recs.length,
        streamArn: this.stream.arn,
      },
    };
    const where = this.opts.destinationFile;
    if (where) appendFileSync(where, `${JSON.stringify(entry)}\n`);
    this.opts.note(`stream: gave up on ${recs.length} record(s) of ${this.def.table.name} (${condition}, ${work.invocations} invocation(s))` +
      (where ? ` → ${where}` : "; no on-failure destination: nothing records it"));
  }
}
