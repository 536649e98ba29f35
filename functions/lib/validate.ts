/** Input validation: ids, JSON bodies and encoded content. Every failure is an HttpError 4xx, never a 5xx. */
import { gunzipSync } from "zlib";
import { header, HttpError, ProxyEvent } from "./http";

/** Ids: 1–128 of letters, digits, `-`, `_`, `.`, `:` (no `#`: it separates sort-key parts). */
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** Returns `value` when it is a valid id ({@link ID_RE}); otherwise throws an HttpError 400 naming `name`. */
export function validateId(name: string, value: string | undefined): string {
  if (value === undefined || value === "") throw new HttpError(400, `${name} is required`);
  if (!ID_RE.test(value)) {
    throw new HttpError(400, `${name} must be 1-128 characters of letters, digits, '-', '_', '.', ':' and start with a letter or digit`);
  }
  return value;
}

/**
 * Parses a JSON object body: content type (when given) must be JSON, size ≤ `maxBytes`,
 * base64 bodies decoded, and the result must be an object.
 */
export function parseJsonBody(event: ProxyEvent, maxBytes: number): Record<string, unknown> {
  const ct = header(event, "content-type");
  if (ct && !/^application\/(.+\+)?json\b/i.test(ct)) throw new HttpError(415, "content-type must be application/json");
  if (event.body === undefined || event.body === null || event.body === "") throw new HttpError(400, "a JSON body is required");
  const raw = event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
  if (raw.length > maxBytes) throw new HttpError(413, `body is ${raw.length} bytes; the limit is ${maxBytes}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(400, "body is not valid JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new HttpError(400, "body must be a JSON object");
  return parsed as Record<string, unknown>;
}

/** Decodes content sent as `gzip+base64` (compressed turns), bounded so a zip bomb cannot blow memory. */
export function decodeContent(content: string, encoding: string | undefined, maxBytes: number): string {
  if (!encoding || encoding === "identity") return content;
  if (encoding !== "gzip+base64") throw new HttpError(400, "contentEncoding must be identity or gzip+base64");
  try {
    return gunzipSync(Buffer.from(content, "base64"), { maxOutputLength: maxBytes }).toString("utf8");
  } catch {
    throw new HttpError(400, `content is not valid gzip+base64 (or inflates beyond ${maxBytes} bytes)`);
  }
}
