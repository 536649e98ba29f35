/**
 * DynamoDB's request limits that dynalite does not enforce, checked on the JSON-1.0 request body
 * before it reaches dynalite, so the twin (and the handler tests) refuse what DynamoDB refuses:
 *   const message = checkDynamoRequest("PutItem", JSON.parse(body), keySchemaOf);
 *   if (message) → HTTP 400 {"__type": VALIDATION_EXCEPTION, "message": message}
 * Limits and their sources: the "Constraints"/"Quotas" page of the DynamoDB developer guide
 * (item size, nesting, key and attribute-name lengths, expression parameters, batch and
 * transaction sizes). Message texts are DynamoDB's own where they are known; the few that are
 * not are marked `twin wording` below.
 * What dynalite already enforces (numbers, empty sets, ASCII key sizes, per-table batch sizes) is
 * left to dynalite, which answers with the same texts as DynamoDB.
 */

/** A DynamoDB AttributeValue in the JSON-1.0 wire format (B, BS: base64 text). */
export interface AttributeValue {
  readonly S?: string;
  readonly N?: string;
  readonly B?: string;
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
  readonly BS?: readonly string[];
  readonly M?: Readonly<Record<string, AttributeValue>>;
  readonly L?: readonly AttributeValue[];
  readonly NULL?: boolean;
  readonly BOOL?: boolean;
}

/** An item (or a key) in the wire format. */
export type Item = Readonly<Record<string, AttributeValue>>;

/** The key attributes of a table and of its secondary indexes. */
export interface TableKeys {
  readonly hashKey: string;
  readonly rangeKey?: string;
  readonly indexes: ReadonlyArray<{ readonly name: string; readonly hashKey: string; readonly rangeKey?: string }>;
}

/** The key schema of a table by name; undefined when the table does not exist (dynalite answers that). */
export type KeySchemaLookup = (table: string) => TableKeys | undefined;

/** The error type DynamoDB sends for a request that fails validation (`ValidationException` in the SDK). */
export const VALIDATION_EXCEPTION = "com.amazon.coral.validate#ValidationException";

/** DynamoDB's limits, in bytes where they are sizes. */
export const DYNAMO_LIMITS = {
  /** Item size: attribute names (UTF-8) plus values. */
  itemBytes: 400 * 1024,
  /** Nesting of lists and maps: a top-level attribute value is level 1. */
  nestingLevels: 32,
  /** An attribute name, at any level ("no greater than 64 KB"). */
  attributeNameBytes: 64 * 1024,
  hashKeyBytes: 2048,
  rangeKeyBytes: 1024,
  /** Any one expression string. */
  expressionBytes: 4096,
  /** One `#name` or `:value` placeholder. */
  placeholderBytes: 255,
  /** All ExpressionAttributeNames and ExpressionAttributeValues of an expression together. */
  substitutionBytes: 2 * 1024 * 1024,
  inOperands: 100,
  batchWriteRequests: 25,
  transactItems: 100,
  transactBytes: 4 * 1024 * 1024,
} as const;

const NESTING = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";
const ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size";
const HASH_KEY_TOO_LARGE = "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes";
const RANGE_KEY_TOO_LARGE = "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes";
const EXPRESSION_KINDS = ["KeyConditionExpression", "ConditionExpression", "FilterExpression", "UpdateExpression", "ProjectionExpression"] as const;

const utf8 = (s: string) => Buffer.byteLength(s, "utf8");
const base64Bytes = (s: string) => Buffer.from(s, "base64").length;

/**
 * The bytes a number costs in an item: 1, plus one per two significant digits of the integer
 * part and of the fraction, plus 1 when negative (leading and trailing zeros do not count).
 */
export function numberSize(n: string): number {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(n.trim());
  if (!m) return utf8(n); // not a number: dynalite refuses it anyway
  let digits = `${m[2]}${m[3] ?? ""}`;
  let point = m[2].length + Number(m[4] ?? 0); // digits before the decimal point
  const lead = /^0*/.exec(digits)![0].length;
  digits = digits.slice(lead).replace(/0+$/, "");
  point -= lead;
  if (digits === "") return 1;
  const intDigits = Math.min(Math.max(point, 0), digits.length);
  return Math.ceil(intDigits / 2) + Math.ceil((digits.length - intDigits) / 2) + 1 + (m[1] === "-" ? 1 : 0);
}

/** The size DynamoDB counts for one attribute value (without its name). */
export function attributeValueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return base64Bytes(v.B);
  if (v.SS) return v.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (v.NS) return v.NS.reduce((sum, s) => sum + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((sum, s) => sum + base64Bytes(s), 0);
  // A list or map costs 3 bytes, plus 1 per element (and, in a map, each key's name).
  if (v.L) return v.L.reduce((sum, e) => sum + 1 + attributeValueSize(e), 3);
  if (v.M) return Object.entries(v.M).reduce((sum, [k, e]) => sum + utf8(k) + 1 + attributeValueSize(e), 3);
  return 1; // NULL, BOOL
}

/** Item size as DynamoDB counts it: UTF-8 bytes of every attribute name plus its value's size. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((sum, [name, v]) => sum + utf8(name) + attributeValueSize(v), 0);
}

/**
 * How far below `v` the deepest value sits: 0 for a scalar, 1 for a map of scalars. Stops
 * counting past the limit, so an absurdly deep value costs no more than a legal one.
 */
export function nestingDepth(v: AttributeValue, cap: number = DYNAMO_LIMITS.nestingLevels): number {
  const children = v.L ?? (v.M ? Object.values(v.M) : undefined);
  if (!children || children.length === 0 || cap <= 0) return 0;
  let deepest = 0;
  for (const c of children) deepest = Math.max(deepest, 1 + nestingDepth(c, cap - 1));
  return deepest;
}

/** True when a value placed `at` levels below a top-level attribute would be nested too deep. */
function tooDeep(v: AttributeValue, at = 0): boolean {
  return at + nestingDepth(v) >= DYNAMO_LIMITS.nestingLevels;
}

/** The first attribute name (at any depth) longer than DynamoDB allows, for the message. */
function longName(item: Item): string | undefined {
  for (const [k, v] of Object.entries(item)) {
    if (utf8(k) > DYNAMO_LIMITS.attributeNameBytes) return k;
    const inner = longNameIn(v);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

function longNameIn(v: AttributeValue): string | undefined {
  if (v.M) return longName(v.M);
  for (const e of v.L ?? []) {
    const inner = longNameIn(e);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

function keyPieceBytes(v: AttributeValue | undefined): number {
  if (!v) return 0;
  if (v.S !== undefined) return utf8(v.S);
  if (v.B !== undefined) return base64Bytes(v.B);
  return 0; // numbers are always within the limit
}

/** Key sizes in UTF-8 bytes (dynalite counts UTF-16 units, so a non-ASCII key passes there). */
function checkKeySizes(key: Item, keys: TableKeys | undefined): string | undefined {
  if (!keys) return undefined;
  if (keyPieceBytes(key[keys.hashKey]) > DYNAMO_LIMITS.hashKeyBytes) return HASH_KEY_TOO_LARGE;
  if (keys.rangeKey && keyPieceBytes(key[keys.rangeKey]) > DYNAMO_LIMITS.rangeKeyBytes) return RANGE_KEY_TOO_LARGE;
  return undefined;
}

/** Secondary-index key attributes that are not keys of the table, with their index. */
function indexKeyAttributes(keys: TableKeys): ReadonlyArray<{ readonly index: string; readonly attr: string }> {
  const out: Array<{ index: string; attr: string }> = [];
  for (const i of [...keys.indexes].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const attr of [i.hashKey, i.rangeKey]) {
      if (attr && attr !== keys.hashKey && attr !== keys.rangeKey) out.push({ index: i.name, attr });
    }
  }
  return out;
}

const isEmptyKeyValue = (v: AttributeValue | undefined) => v !== undefined && (v.S === "" || v.B === "");

/** Everything DynamoDB checks on an item about to be stored whole (PutItem, a batch or transaction put). */
export function checkItem(item: Item, keys: TableKeys | undefined): string | undefined {
  if (Object.values(item).some((v) => tooDeep(v))) return NESTING;
  const name = longName(item);
  // twin wording: DynamoDB's text for this limit is not documented.
  if (name !== undefined) return `One or more parameter values were invalid: an attribute name is longer than ${DYNAMO_LIMITS.attributeNameBytes} bytes: ${name.slice(0, 40)}…`;
  if (itemSize(item) > DYNAMO_LIMITS.itemBytes) return ITEM_TOO_LARGE;
  const keyError = checkKeySizes(item, keys);
  if (keyError || !keys) return keyError;
  const empty = indexKeyAttributes(keys).find(({ attr }) => isEmptyKeyValue(item[attr]));
  if (empty) {
    const kind = item[empty.attr].S === "" ? "string" : "binary";
    return `One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty ${kind} value. IndexName: ${empty.index}, IndexKey: ${empty.attr}`;
  }
  return undefined;
}

/** The object that carries an expression and its placeholders (a request, or one action of a transaction). */
interface ExpressionHolder {
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  readonly ExpressionAttributeValues?: Item;
  readonly [kind: string]: unknown;
}

/** The number of operands of every `IN (…)` in an expression. */
function inOperandCounts(expr: string): number[] {
  const counts: number[] = [];
  // `IN` is a reserved word, so it only appears unescaped as the operator (not `#in`, `:in`).
  const re = /(?<![#:\w])IN\s*\(/gi;
  for (let m = re.exec(expr); m; m = re.exec(expr)) {
    let depth = 1;
    let operands = 1;
    for (let i = m.index + m[0].length; i < expr.length && depth > 0; i++) {
      if (expr[i] === "(") depth++;
      else if (expr[i] === ")") depth--;
      else if (expr[i] === "," && depth === 1) operands++;
    }
    counts.push(operands);
  }
  return counts;
}

/** Splits on top-level commas (not those inside a function's parentheses). */
function topLevelParts(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "(") depth++;
    else if (s[i] === ")") depth--;
    else if (s[i] === "," && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** The `path = value` actions of an UpdateExpression's SET clause. */
function setActions(update: string): ReadonlyArray<{ readonly path: string; readonly value: string }> {
  // SET, REMOVE, ADD and DELETE are reserved words: unescaped, they only start a clause.
  const clauses = update.split(/(?<![#:\w])(?=(?:SET|REMOVE|ADD|DELETE)\b)/i);
  const set = clauses.find((c) => /^SET\b/i.test(c.trimStart()));
  if (!set) return [];
  return topLevelParts(set.trimStart().slice(3)).flatMap((action) => {
    const eq = action.indexOf("=");
    return eq < 0 ? [] : [{ path: action.slice(0, eq).trim(), value: action.slice(eq + 1).trim() }];
  });
}

/** Checks of one expression holder: expression sizes, IN operands, placeholders. */
function checkExpressions(h: ExpressionHolder): string | undefined {
  for (const kind of EXPRESSION_KINDS) {
    const expr = h[kind];
    if (typeof expr !== "string") continue;
    const bytes = utf8(expr);
    if (bytes > DYNAMO_LIMITS.expressionBytes) return `Invalid ${kind}: Expression size has exceeded the maximum allowed size; expression size: ${bytes}`;
    const tooMany = inOperandCounts(expr).find((n) => n > DYNAMO_LIMITS.inOperands);
    if (tooMany !== undefined) return `Invalid ${kind}: The IN operator is provided with too many operands; number of operands: ${tooMany}`;
  }
  const names = h.ExpressionAttributeNames ?? {};
  const values = h.ExpressionAttributeValues ?? {};
  let total = 0;
  for (const [k, v] of Object.entries(names)) {
    // twin wording for the placeholder and total limits: DynamoDB's texts are not documented.
    if (utf8(k) > DYNAMO_LIMITS.placeholderBytes) return `ExpressionAttributeNames contains invalid key: longer than ${DYNAMO_LIMITS.placeholderBytes} bytes; key: "${k.slice(0, 40)}…"`;
    total += utf8(k) + utf8(v);
  }
  for (const [k, v] of Object.entries(values)) {
    if (utf8(k) > DYNAMO_LIMITS.placeholderBytes) return `ExpressionAttributeValues contains invalid key: longer than ${DYNAMO_LIMITS.placeholderBytes} bytes; key: "${k.slice(0, 40)}…"`;
    if (tooDeep(v)) return NESTING;
    const size = attributeValueSize(v);
    if (size > DYNAMO_LIMITS.itemBytes) return `ExpressionAttributeValues contains invalid value: ${ITEM_TOO_LARGE} for key ${k}`;
    total += utf8(k) + size;
  }
  if (total > DYNAMO_LIMITS.substitutionBytes) {
    return `ExpressionAttributeNames and ExpressionAttributeValues together exceed the maximum of ${DYNAMO_LIMITS.substitutionBytes} bytes; size: ${total}`;
  }
  return undefined;
}

/**
 * What an UpdateExpression's SET would store, as far as the request alone tells: a value nested
 * too deep at its path, and a secondary-index key set to an empty string or binary.
 */
function checkUpdate(h: ExpressionHolder, keys: TableKeys | undefined): string | undefined {
  if (typeof h.UpdateExpression !== "string") return undefined;
  const names = h.ExpressionAttributeNames ?? {};
  const values = h.ExpressionAttributeValues ?? {};
  const indexAttrs = new Set(keys ? indexKeyAttributes(keys).map((a) => a.attr) : []);
  for (const { path, value } of setActions(h.UpdateExpression)) {
    // Levels below the top-level attribute: one per `.name` and per `[n]`.
    const depth = (path.match(/\.|\[/g) ?? []).length;
    for (const placeholder of value.match(/:[A-Za-z0-9_]+/g) ?? []) {
      const v = values[placeholder];
      if (v && tooDeep(v, depth)) return NESTING;
    }
    const top = path.startsWith("#") ? names[path] : path;
    const v = /^:[A-Za-z0-9_]+$/.test(value) ? values[value] : undefined;
    if (depth === 0 && top !== undefined && indexAttrs.has(top) && isEmptyKeyValue(v)) {
      return `One or more parameter values are not valid. The update expression attempted to update a secondary index key to a value that is not supported. The AttributeValue for a key attribute cannot contain an empty ${v!.S === "" ? "string" : "binary"} value.`;
    }
  }
  return undefined;
}

/** A compact dump of a list for the "Value '…' at …" messages (DynamoDB prints its Java objects). */
function dump(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 500 ? `${s.slice(0, 500)}…` : s;
}

type Body = Readonly<Record<string, unknown>>;
const asItem = (v: unknown): Item => (v && typeof v === "object" ? (v as Item) : {});
const tableOf = (h: Body) => (typeof h.TableName === "string" ? h.TableName : "");

/** The checks of one single-item request or transaction action. */
function checkAction(op: "Put" | "Update" | "Delete" | "Get" | "ConditionCheck", a: Body, lookup: KeySchemaLookup): string | undefined {
  const keys = lookup(tableOf(a));
  return (
    checkExpressions(a as ExpressionHolder) ??
    (op === "Put" ? checkItem(asItem(a.Item), keys) : checkKeySizes(asItem(a.Key), keys)) ??
    (op === "Update" ? checkUpdate(a as ExpressionHolder, keys) : undefined)
  );
}

/** Identity of the item an action touches, for the one-action-per-item rule of transactions. */
function targetOf(a: Body, key: Item, keys: TableKeys | undefined): string | undefined {
  if (!keys) return undefined;
  return JSON.stringify([tableOf(a), key[keys.hashKey], keys.rangeKey ? key[keys.rangeKey] : null]);
}

const TRANSACT_ACTIONS = ["Put", "Update", "Delete", "ConditionCheck", "Get"] as const;

function checkTransaction(op: string, body: Body, lookup: KeySchemaLookup): string | undefined {
  const items = Array.isArray(body.TransactItems) ? (body.TransactItems as Body[]) : [];
  if (items.length > DYNAMO_LIMITS.transactItems) {
    return `1 validation error detected: Value '${dump(items)}' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to ${DYNAMO_LIMITS.transactItems}`;
  }
  const targets = new Set<string>();
  let total = 0;
  for (const entry of items) {
    const kind = TRANSACT_ACTIONS.find((k) => entry[k] !== undefined);
    if (!kind) continue; // dynalite (or DynamoDB) answers a malformed action
    const a = entry[kind] as Body;
    const message = checkAction(kind, a, lookup);
    if (message) return message;
    const keys = lookup(tableOf(a));
    const key = kind === "Put" ? asItem(a.Item) : asItem(a.Key);
    const target = targetOf(a, key, keys);
    if (target !== undefined && targets.has(target)) return "Transaction request cannot include multiple operations on one item";
    if (target !== undefined) targets.add(target);
    total += itemSize(key);
  }
  if (op === "TransactWriteItems" && total > DYNAMO_LIMITS.transactBytes) {
    return "Collection size of items exceeded, which can also be caused by the aggregate size of the items in the transaction exceeding the 4MB limit";
  }
  return undefined;
}

function checkBatchWrite(body: Body, lookup: KeySchemaLookup): string | undefined {
  const tables = Object.entries((body.RequestItems ?? {}) as Record<string, unknown>);
  const lists = tables.map(([table, reqs]) => [table, Array.isArray(reqs) ? (reqs as Body[]) : []] as const);
  const count = lists.reduce((n, [, reqs]) => n + reqs.length, 0);
  // Over 25 in one table, dynalite answers DynamoDB's own message; over 25 in all, it does not check.
  if (count > DYNAMO_LIMITS.batchWriteRequests && lists.every(([, reqs]) => reqs.length <= DYNAMO_LIMITS.batchWriteRequests)) {
    return "Too many items requested for the BatchWriteItem call";
  }
  for (const [table, reqs] of lists) {
    const keys = lookup(table);
    for (const r of reqs) {
      const put = r.PutRequest as Body | undefined;
      const del = r.DeleteRequest as Body | undefined;
      const message = put ? checkItem(asItem(put.Item), keys) : del ? checkKeySizes(asItem(del.Key), keys) : undefined;
      if (message) return message;
    }
  }
  return undefined;
}

function checkBatchGet(body: Body, lookup: KeySchemaLookup): string | undefined {
  for (const [table, spec] of Object.entries((body.RequestItems ?? {}) as Record<string, Body>)) {
    const message = checkExpressions(spec as ExpressionHolder);
    if (message) return message;
    const keys = lookup(table);
    for (const key of Array.isArray(spec.Keys) ? (spec.Keys as Item[]) : []) {
      const keyError = checkKeySizes(key, keys);
      if (keyError) return keyError;
    }
  }
  return undefined;
}

/** The tables a request names (whose key schemas {@link checkDynamoRequest} may need). */
export function tablesOf(operation: string, body: unknown): readonly string[] {
  const b = asItem(body) as Body;
  if (operation === "BatchWriteItem" || operation === "BatchGetItem") return Object.keys((b.RequestItems ?? {}) as object);
  if (operation === "TransactWriteItems" || operation === "TransactGetItems") {
    const items = Array.isArray(b.TransactItems) ? (b.TransactItems as Body[]) : [];
    return [...new Set(items.flatMap((e) => Object.values(e).map((a) => tableOf(asItem(a) as Body))).filter(Boolean))];
  }
  return typeof b.TableName === "string" ? [b.TableName] : [];
}

/**
 * The ValidationException message DynamoDB would answer `body` (the parsed JSON of a request
 * whose X-Amz-Target names `operation`) with for a limit dynalite does not enforce; undefined
 * when the request is within them (dynalite then checks everything else).
 */
export function checkDynamoRequest(operation: string, body: unknown, lookup: KeySchemaLookup): string | undefined {
  if (!body || typeof body !== "object" || Array.isArray(body)) return undefined;
  const b = body as Body;
  switch (operation) {
    case "PutItem":
      return checkAction("Put", b, lookup);
    case "UpdateItem":
      return checkAction("Update", b, lookup);
    case "DeleteItem":
      return checkAction("Delete", b, lookup);
    case "GetItem":
      return checkAction("Get", b, lookup);
    case "Query":
    case "Scan":
      return checkExpressions(b as ExpressionHolder);
    case "BatchWriteItem":
      return checkBatchWrite(b, lookup);
    case "BatchGetItem":
      return checkBatchGet(b, lookup);
    case "TransactWriteItems":
    case "TransactGetItems":
      return checkTransaction(operation, b, lookup);
    default:
      return undefined;
  }
}
