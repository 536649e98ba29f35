/**
 * Event source mapping rules for stream consumers (DynamoDB Streams, Kinesis): what Lambda does
 * with a batch it gives up on, and whether one bad record can make it redo the good ones.
 */
import { TerraformModel, TfResource } from "../model";
import type { RuleOutcome } from "../types";
import { fail, notApplicable, pass, PolicyRule, setBy, unknown } from "../rule";
import { show } from "./util";

const ESM = ["aws_lambda_event_source_mapping"];

/** Attributes of other resources that are stream ARNs (as `event_source_arn` references them). */
const STREAM_REFERENCE = /^aws_(dynamodb_table\.[^.]+\.stream_arn|kinesis_stream\.[^.]+\.arn|kinesis_stream_consumer\.[^.]+\.arn)$/;
/** A DynamoDB stream or Kinesis stream (or consumer) ARN. */
const STREAM_ARN = /^arn:aws[a-z-]*:(dynamodb:[^:]*:\d*:table\/[^/]+\/stream\/|kinesis:)/;

/**
 * Whether the mapping reads a stream: `true`, `false` (a queue, a broker, Kafka…), or the
 * outcome to report when that cannot be told from the configuration.
 */
function readsStream(model: TerraformModel, r: TfResource): boolean | RuleOutcome {
  const v = model.value(r, "event_source_arn");
  if (v.state === "absent") return false; // self-managed Kafka and the like name no ARN
  if (v.state === "known") return STREAM_ARN.test(String(v.value));
  const refs = model.rawReferences(r, "event_source_arn");
  if (refs.some((ref) => STREAM_REFERENCE.test(ref))) return true;
  if (refs.some((ref) => /^aws_[a-z0-9_]+\.[^.]+\.[a-z_]+$/.test(ref))) return false; // a queue's, a broker's or a cluster's ARN
  return unknown("event_source_arn", `event_source_arn is the expression ${show(v.expression)}; whether it is a stream is known only after planning`);
}

export const ESM_ON_FAILURE_DESTINATION: PolicyRule = {
  id: "CF-ESM-1",
  title: "Stream event source mappings send what they discard to an on-failure destination",
  severity: "error",
  resourceTypes: ESM,
  rationale:
    "When Lambda gives up on a stream batch (retries or record age exhausted) it skips the records and moves on; " +
    "without an on-failure destination nothing says which changes were never processed, so a stream-driven cache " +
    "invalidation can silently leave entries stale until their TTL.",
  remediation: "Set destination_config { on_failure { destination_arn = <an SQS queue or SNS topic ARN> } } and alarm on it.",
  references: { cdkNag: ["Serverless-LambdaEventSourceMappingDestination"] },
  props: { "*": setBy("StreamInvalidator (its on-failure queue)") },
  evaluate(r, { model }) {
    const stream = readsStream(model, r);
    if (stream !== true) return stream === false ? notApplicable() : stream;
    const d = model.value(r, "destination_config.on_failure.destination_arn");
    if (d.state === "absent") return fail("destination_config.on_failure.destination_arn", "no on-failure destination: discarded batches leave no trace");
    if (d.state === "known" && String(d.value).trim() === "") return fail("destination_config.on_failure.destination_arn", "the on-failure destination is empty");
    return pass();
  },
};

export const ESM_REPORT_BATCH_ITEM_FAILURES: PolicyRule = {
  id: "CF-ESM-2",
  title: "Stream consumers report batch item failures",
  severity: "error",
  resourceTypes: ESM,
  rationale:
    "Without ReportBatchItemFailures one failed record fails its whole batch: Lambda retries every record of it, " +
    "those already handled included, and after the retries discards them all together.",
  remediation: "Set function_response_types = [\"ReportBatchItemFailures\"] and return { batchItemFailures: [{ itemIdentifier }] } from the function.",
  references: {},
  props: { "*": setBy("StreamInvalidator") },
  evaluate(r, { model }) {
    const stream = readsStream(model, r);
    if (stream !== true) return stream === false ? notApplicable() : stream;
    const v = model.value(r, "function_response_types");
    if (v.state === "absent") return fail("function_response_types", "function_response_types is not set: a failed record fails its whole batch");
    if (v.state === "unknown") return unknown("function_response_types", `function_response_types is the expression ${show(v.expression)}`);
    const types = Array.isArray(v.value) ? v.value : [v.value];
    return types.includes("ReportBatchItemFailures")
      ? pass()
      : fail("function_response_types", `function_response_types = ${show(v.value)}; expected it to include "ReportBatchItemFailures"`);
  },
};

export const EVENT_SOURCE_RULES: readonly PolicyRule[] = [ESM_ON_FAILURE_DESTINATION, ESM_REPORT_BATCH_ITEM_FAILURES];
