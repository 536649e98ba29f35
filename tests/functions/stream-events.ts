/**
 * DynamoDB Streams records as Lambda delivers them to the invalidator, for the runtime tests:
 * `streamEvent(modify("products", { productId: { S: "p1" } }, "100"))`.
 */
import type { StreamEvent, StreamRecord } from "../../functions/lib/stream";

/** One record of table `table`'s stream: `eventName` of the item with `keys`, at sequence `seq`. */
export function streamRecord(
  table: string,
  eventName: "INSERT" | "MODIFY" | "REMOVE",
  keys: Record<string, Record<string, unknown>>,
  seq: string,
  opts: { ttl?: boolean; createdAtSeconds?: number } = {},
): StreamRecord {
  return {
    eventName,
    eventSourceARN: `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/stream/2026-01-01T00:00:00.000`,
    ...(opts.ttl ? { userIdentity: { type: "Service", principalId: "dynamodb.amazonaws.com" } } : {}),
    dynamodb: {
      Keys: keys,
      SequenceNumber: seq,
      ApproximateCreationDateTime: opts.createdAtSeconds ?? Math.floor(Date.now() / 1000),
    },
  };
}

/** The event Lambda invokes the invalidator with. */
export const streamEvent = (...records: StreamRecord[]): StreamEvent => ({ Records: records });
