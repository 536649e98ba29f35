/**
 * One error model for the runtime, applied at the request boundary: every failure becomes the
 * HTTP answer that tells the caller the truth about it.
 *   - the request itself is wrong (our validation, DynamoDB's ValidationException) → 400, naming the field;
 *   - the table is throttling → 503 with Retry-After (the service is overloaded, not the caller wrong);
 *   - the table did not answer in time or cannot be reached → 503 with Retry-After, within the deadline;
 *   - a deployment mistake (no such table, no permission) → 500 naming it;
 *   - anything else is a bug → 500, logged with its stack. Never 503: a retry would not help.
 */
import { HttpError } from "./http";

/** The table (or DAX standing in for it) could not be used: timed out, unreachable, or throttling. */
export class TableUnavailableError extends Error {
  constructor(
    /** Why: no answer within the deadline, no connection, or throttled by DynamoDB. */
    public readonly reason: "timeout" | "unreachable" | "throttled",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TableUnavailableError";
  }
}

/** DynamoDB refused the request's shape: the caller's input, not an outage. */
const REQUEST_REFUSED = new Set(["ValidationException", "SerializationException", "ItemCollectionSizeLimitExceededException"]);
/** DynamoDB is shedding load: retry later. */
const THROTTLED = new Set(["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "LimitExceededException"]);
/** DynamoDB had a fault of its own. */
const SERVER_FAULTS = new Set(["InternalServerError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException"]);
/** The deployment is wrong: a table that does not exist, a role without permission, bad credentials. */
const DEPLOYMENT = new Set(["ResourceNotFoundException", "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "MissingAuthenticationTokenException"]);
/** Socket-level failures (Node's error codes) and the SDK's own timeout/abort errors: the table was not reached. */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED"]);
const UNREACHABLE_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException", "AbortError", "NetworkingError"]);

/** Whether an SDK error means the table was not reached or not in time (so a retry may work). */
export function isUnreachable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e) return false;
  if (err instanceof TableUnavailableError) return true;
  if (e.code && UNREACHABLE_CODES.has(e.code)) return true;
  return !!e.name && UNREACHABLE_NAMES.has(e.name);
}

/** The HTTP error a failure of a request becomes (see the file comment), and whether it is a bug to log. */
export function classifyError(err: unknown): { readonly error: HttpError; readonly bug: boolean } {
  if (err instanceof HttpError) return { error: err, bug: false };
  const name = (err as { name?: string } | undefined)?.name ?? "";
  const message = err instanceof Error ? err.message : String(err);
  const retry = { "retry-after": "1" };
  if (REQUEST_REFUSED.has(name)) return { error: new HttpError(400, `request refused by the table: ${message}`), bug: false };
  if (name === "ConditionalCheckFailedException" || name === "TransactionCanceledException") {
    return { error: new HttpError(409, "the item changed meanwhile; retry"), bug: false };
  }
  if (THROTTLED.has(name) || (err instanceof TableUnavailableError && err.reason === "throttled")) {
    return { error: new HttpError(503, "service unavailable: the table is throttling requests; retry shortly", retry), bug: false };
  }
  if (SERVER_FAULTS.has(name) || isUnreachable(err)) {
    return { error: new HttpError(503, "service unavailable: the table cannot be reached; retry shortly", retry), bug: false };
  }
  if (DEPLOYMENT.has(name)) return { error: new HttpError(500, `function misconfigured: ${name}`), bug: false };
  // A cache backend that cannot do what the function needs (memcached has no atomic sliding window):
  // a deployment mistake the constructs refuse at synth; never silently skipped.
  if (name === "UnsupportedCacheOperationError") return { error: new HttpError(500, `function misconfigured: ${message}`), bug: false };
  return { error: new HttpError(500, "internal error"), bug: true };
}
