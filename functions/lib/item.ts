/**
 * DynamoDB's limits on an item, checked before the item is marshalled and sent, so input that
 * DynamoDB (or the marshaller) would refuse is a 400 naming the field instead of an error deep in
 * a write:
 *   const Item = toItem({ ...body, productId: id });   // HttpError 400 with every problem, or the AttributeValues
 * Limits (DynamoDB developer guide, service quotas): 400 KB per item including attribute names,
 * 32 levels of nested lists and maps, attribute names of 1 to 65,535 bytes, numbers of up to 38
 * digits between ±1E-130 and ±9.9E125. A JSON number the runtime holds as a double is exact only
 * up to 2^53 − 1, so a larger magnitude is refused rather than stored rounded.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { HttpError } from "./http";

/** The limits {@link checkItem} applies. */
export const ITEM_LIMITS = {
  /** Bytes of one item, names and values. */
  itemBytes: 400 * 1024,
  /** Levels of nested lists and maps (a top-level attribute's value is level 1). */
  nestingLevels: 32,
  /** Bytes of one attribute name. */
  nameBytes: 65_535,
  /** Smallest magnitude of a non-zero number. */
  smallestNumber: 1e-130,
  /** Largest magnitude a number parsed from JSON carries exactly. */
  largestExactNumber: Number.MAX_SAFE_INTEGER,
} as const;

const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

/** DynamoDB's size of a number: about one byte per two significant digits, plus one. */
function numberBytes(n: number): number {
  const digits = String(Math.abs(n)).replace(/e.*$/i, "").replace(/[.]/g, "").replace(/^0+/, "").length;
  return Math.ceil(Math.max(1, digits) / 2) + 1;
}

interface Walk {
  readonly problems: string[];
  bytes: number;
}

/** Records the problems of one value at `path` (nested `level` deep) and adds its size. */
function walk(value: unknown, path: string, level: number, w: Walk): void {
  if (w.problems.length >= 20) return; // enough to act on; a hostile body must not cost more
  if (value === null || typeof value === "boolean") {
    w.bytes += 1;
  } else if (typeof value === "string") {
    w.bytes += utf8(value);
  } else if (typeof value === "number") {
    const m = Math.abs(value);
    if (!Number.isFinite(value)) w.problems.push(`${path} must be a finite number`);
    else if (m > ITEM_LIMITS.largestExactNumber) {
      w.problems.push(`${path} = ${value} is too large to store exactly (the largest is ${ITEM_LIMITS.largestExactNumber}); send it as a string`);
    } else if (m !== 0 && m < ITEM_LIMITS.smallestNumber) w.problems.push(`${path} = ${value} is too small (the smallest non-zero magnitude is 1e-130)`);
    w.bytes += numberBytes(value);
  } else if (Array.isArray(value) || typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as object);
    if (entries.length > 0 && level >= ITEM_LIMITS.nestingLevels) {
      w.problems.push(`${path} is nested more than ${ITEM_LIMITS.nestingLevels} levels deep`);
      return; // do not descend: a body nested thousands of levels deep is refused here, not walked
    }
    w.bytes += 3 + entries.length;
    for (const [k, v] of entries) {
      if (!Array.isArray(value)) {
        if (k === "") w.problems.push(`${path} has an attribute with an empty name`);
        else if (utf8(k) > ITEM_LIMITS.nameBytes) w.problems.push(`${path} has an attribute name longer than ${ITEM_LIMITS.nameBytes} bytes`);
        w.bytes += utf8(k);
      }
      walk(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, level + 1, w);
    }
  } else {
    w.problems.push(`${path} is not a JSON value`);
  }
}

/** Every way `item` breaks DynamoDB's limits, each naming the field; empty when it fits. */
export function checkItem(item: Readonly<Record<string, unknown>>): string[] {
  const w: Walk = { problems: [], bytes: 0 };
  for (const [k, v] of Object.entries(item)) {
    if (k === "") w.problems.push("an attribute has an empty name");
    else if (utf8(k) > ITEM_LIMITS.nameBytes) w.problems.push(`an attribute name is longer than ${ITEM_LIMITS.nameBytes} bytes`);
    w.bytes += utf8(k);
    walk(v, k, 1, w);
  }
  if (w.bytes > ITEM_LIMITS.itemBytes) w.problems.push(`the item is ${w.bytes} bytes; DynamoDB stores at most ${ITEM_LIMITS.itemBytes}`);
  return w.problems;
}

/** `item` as DynamoDB AttributeValues, or an HttpError 400 listing every limit it breaks. */
export function toItem(item: Readonly<Record<string, unknown>>): Record<string, AttributeValue> {
  const problems = checkItem(item);
  if (problems.length > 0) throw new HttpError(400, "the item cannot be stored", {}, problems);
  return marshall(item, { removeUndefinedValues: true });
}
