/**
 * The twin's DynamoDB refuses what DynamoDB refuses. Each limit through the AWS SDK against
 * dynalite behind the validating proxy (tools/twin/dynamo.ts): one request over the limit gets
 * DynamoDB's ValidationException, one at the limit succeeds. Limits dynalite already enforces are
 * covered too (they reach dynalite through the proxy), and the first test shows, against dynalite
 * alone, that the proxy is what refuses the others.
 */
import {
  BatchGetItemCommand, BatchWriteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand,
  TransactWriteItemsCommand, UpdateItemCommand, WriteRequest,
} from "@aws-sdk/client-dynamodb";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { dynamoDbClientFor, DynaliteHandle, startDynalite } from "../helpers/dynalite";
import { attributeValueSize, DYNAMO_LIMITS, Item, itemSize, nestingDepth, numberSize } from "../../tools/twin/dynamo-limits";

jest.setTimeout(60_000);

const TABLE = "limits";
const OTHER = "limits-other";
let db: DynaliteHandle;
let c: DynamoDBClient;
let direct: DynamoDBClient;

beforeAll(async () => {
  db = await startDynalite();
  await db.createTable({
    TableName: TABLE,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: "pk", AttributeType: "S" },
      { AttributeName: "sk", AttributeType: "S" },
      { AttributeName: "g", AttributeType: "S" },
    ],
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
    GlobalSecondaryIndexes: [{ IndexName: "by-g", KeySchema: [{ AttributeName: "g", KeyType: "HASH" }], Projection: { ProjectionType: "KEYS_ONLY" } }],
  });
  await db.createTable({
    TableName: OTHER,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
  });
  c = db.client();
  direct = dynamoDbClientFor(db.upstream);
});
afterAll(async () => {
  direct?.destroy();
  await db?.stop();
});

let seq = 0;
/** A fresh key, so no test sees another's item. */
const key = (): Record<string, AttributeValue> => ({ pk: { S: `p${++seq}` }, sk: { S: "s" } });
const put = (extra: Record<string, AttributeValue>, k = key()) => new PutItemCommand({ TableName: TABLE, Item: { ...k, ...extra } });
/** `depth` single-key maps around a string. */
const deep = (depth: number): AttributeValue => {
  let v: AttributeValue = { S: "leaf" };
  for (let i = 0; i < depth; i++) v = { M: { n: v } };
  return v;
};
const scan = (FilterExpression: string, values: Record<string, AttributeValue>) =>
  new ScanCommand({ TableName: TABLE, FilterExpression, ExpressionAttributeValues: Object.keys(values).length ? values : undefined });
/** The SDK's AttributeValue type holds binaries as bytes; the twin's, as base64 text: only strings here. */
const sizeOf = (item: Record<string, AttributeValue>) => itemSize(item as unknown as Item);
const is = (message: string | RegExp) => ({ name: "ValidationException", message: typeof message === "string" ? message : expect.stringMatching(message) });
const NESTING = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";
const E = "é"; // 2 bytes in UTF-8, 1 UTF-16 unit: where dynalite and DynamoDB count differently

test("dynalite alone accepts what the proxy refuses (why the proxy exists)", async () => {
  const accepted = [
    put({ d: deep(32) }),
    new PutItemCommand({ TableName: TABLE, Item: { pk: { S: E.repeat(1500) }, sk: { S: "s" } } }),
    put({ g: { S: "" } }),
    put({ ["a".repeat(64 * 1024 + 1)]: { S: "v" } }),
    scan(`attribute_exists(pk)${" ".repeat(4100)}`, {}),
    scan(`pk IN (${Array.from({ length: 101 }, (_, i) => `:v${i}`).join(", ")})`, Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`:v${i}`, { S: "x" }]))),
    scan(`pk = :${"a".repeat(255)}`, { [`:${"a".repeat(255)}`]: { S: "x" } }),
    new BatchWriteItemCommand({
      RequestItems: {
        [TABLE]: Array.from({ length: 13 }, () => ({ PutRequest: { Item: key() } })),
        [OTHER]: Array.from({ length: 13 }, (_, i) => ({ PutRequest: { Item: { pk: { S: `o${i}` } } } })),
      },
    }),
  ];
  for (const cmd of accepted) await expect(direct.send(cmd as PutItemCommand)).resolves.toBeDefined();
  for (const cmd of accepted) await expect(c.send(cmd as PutItemCommand)).rejects.toMatchObject({ name: "ValidationException" });
});

describe("item size: 400 KB of UTF-8 bytes, attribute names included", () => {
  // pk "pN" and sk "s" plus the names pk, sk, d: the value gets what is left of 409 600 bytes.
  const room = (k: Record<string, AttributeValue>) => DYNAMO_LIMITS.itemBytes - sizeOf({ ...k, d: { S: "" } });
  const text = (bytes: number) => E.repeat(Math.floor(bytes / 2)) + "x".repeat(bytes % 2);

  test("PutItem: at the limit stored, one byte over refused (dynalite counted UTF-16 units)", async () => {
    const k = key();
    await expect(c.send(put({ d: { S: text(room(k)) } }, k))).resolves.toBeDefined();
    const k2 = key();
    await expect(c.send(put({ d: { S: text(room(k2) + 1) } }, k2))).rejects.toMatchObject(is("Item size has exceeded the maximum allowed size"));
  });

  test("attribute names count in UTF-8 too", async () => {
    const k = key();
    const name = E.repeat(1000); // 2 000 bytes
    const left = DYNAMO_LIMITS.itemBytes - sizeOf({ ...k, [name]: { S: "" } });
    await expect(c.send(put({ [name]: { S: "x".repeat(left) } }, k))).resolves.toBeDefined();
    await expect(c.send(put({ [name]: { S: "x".repeat(left + 1) } }))).rejects.toMatchObject(is("Item size has exceeded the maximum allowed size"));
  });

  test("UpdateItem: the item it produces is measured the same way", async () => {
    const k = key();
    await c.send(new PutItemCommand({ TableName: TABLE, Item: k }));
    const update = (bytes: number) =>
      new UpdateItemCommand({ TableName: TABLE, Key: k, UpdateExpression: "SET d = :v", ExpressionAttributeValues: { ":v": { S: text(bytes) } } });
    await expect(c.send(update(room(k) + 1))).rejects.toMatchObject(is("Item size to update has exceeded the maximum allowed size"));
    await expect(c.send(update(room(k)))).resolves.toBeDefined();
  });

  test("BatchWriteItem: each put is measured the same way", async () => {
    const k = key();
    const batch = (bytes: number) => new BatchWriteItemCommand({ RequestItems: { [TABLE]: [{ PutRequest: { Item: { ...k, d: { S: text(bytes) } } } }] } });
    await expect(c.send(batch(room(k) + 1))).rejects.toMatchObject(is("Item size has exceeded the maximum allowed size"));
    await expect(c.send(batch(room(k)))).resolves.toBeDefined();
  });

  test("a value in ExpressionAttributeValues over 400 KB is refused on its own", async () => {
    const v = (bytes: number) => ({ ":v": { S: "x".repeat(bytes) } });
    await expect(c.send(scan("pk <> :v", v(DYNAMO_LIMITS.itemBytes + 1)))).rejects.toMatchObject(
      is("ExpressionAttributeValues contains invalid value: Item size has exceeded the maximum allowed size for key :v"),
    );
    await expect(c.send(scan("pk <> :v", v(DYNAMO_LIMITS.itemBytes)))).resolves.toBeDefined();
  });
});

describe("nesting: 32 levels", () => {
  test("PutItem: 31 maps around a value stored, 32 refused", async () => {
    await expect(c.send(put({ d: deep(31) }))).resolves.toBeDefined();
    await expect(c.send(put({ d: deep(32) }))).rejects.toMatchObject(is(NESTING));
    await expect(c.send(put({ d: { L: [deep(31)] } }))).rejects.toMatchObject(is(NESTING)); // lists count as levels too
  });

  test("a value nested 1 000 levels deep is refused instead of overflowing dynalite's stack", async () => {
    // dynalite alone throws RangeError (Maximum call stack size exceeded) here, uncaught: the process dies.
    await expect(c.send(put({ d: deep(1000) }))).rejects.toMatchObject(is(NESTING));
    await expect(c.send(new GetItemCommand({ TableName: TABLE, Key: key() }))).resolves.toBeDefined(); // still serving
  });

  test("UpdateItem: the value's own depth, and its depth at the SET path", async () => {
    const update = (path: string, v: AttributeValue) =>
      new UpdateItemCommand({ TableName: TABLE, Key: key(), UpdateExpression: `SET ${path} = :v`, ExpressionAttributeValues: { ":v": v } });
    await expect(c.send(update("d", deep(32)))).rejects.toMatchObject(is(NESTING));
    await expect(c.send(update("d", deep(31)))).resolves.toBeDefined();
    // d.e puts the value one level down: 30 maps still fit, 31 do not.
    await expect(c.send(update("d.e", deep(31)))).rejects.toMatchObject(is(NESTING));
    const k = key();
    await c.send(new PutItemCommand({ TableName: TABLE, Item: { ...k, d: { M: {} } } }));
    await expect(c.send(new UpdateItemCommand({ TableName: TABLE, Key: k, UpdateExpression: "SET d.e = :v", ExpressionAttributeValues: { ":v": deep(30) } }))).resolves.toBeDefined();
  });
});

test("attribute names: up to 64 KB", async () => {
  await expect(c.send(put({ ["a".repeat(DYNAMO_LIMITS.attributeNameBytes)]: { S: "v" } }))).resolves.toBeDefined();
  await expect(c.send(put({ m: { M: { ["a".repeat(DYNAMO_LIMITS.attributeNameBytes + 1)]: { S: "v" } } } }))).rejects.toMatchObject(is(/attribute name is longer than 65536 bytes/));
});

describe("key sizes in UTF-8 bytes: partition key 2048, sort key 1024", () => {
  const item = (pk: string, sk: string) => new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk }, sk: { S: sk } } });

  test("partition key", async () => {
    await expect(c.send(item(E.repeat(1024), "s"))).resolves.toBeDefined();
    await expect(c.send(item(`${E.repeat(1024)}x`, "s"))).rejects.toMatchObject(
      is("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"),
    );
    await expect(c.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `${E.repeat(1024)}x` }, sk: { S: "s" } } }))).rejects.toMatchObject(is(/Size of hashkey/));
  });

  test("sort key", async () => {
    await expect(c.send(item("p", E.repeat(512)))).resolves.toBeDefined();
    await expect(c.send(item("p", `${E.repeat(512)}x`))).rejects.toMatchObject(
      is("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"),
    );
  });
});

test("a secondary-index key may not be an empty string (PutItem and UpdateItem's SET)", async () => {
  await expect(c.send(put({ g: { S: "" } }))).rejects.toMatchObject(
    is("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: by-g, IndexKey: g"),
  );
  await expect(c.send(put({ g: { S: "x" }, other: { S: "" } }))).resolves.toBeDefined(); // empty non-key values are fine
  const set = (v: string) => new UpdateItemCommand({ TableName: TABLE, Key: key(), UpdateExpression: "SET #g = :v", ExpressionAttributeNames: { "#g": "g" }, ExpressionAttributeValues: { ":v": { S: v } } });
  await expect(c.send(set(""))).rejects.toMatchObject(is(/update a secondary index key to a value that is not supported/));
  await expect(c.send(set("x"))).resolves.toBeDefined();
});

describe("expression parameters", () => {
  test("an expression is at most 4 KB", async () => {
    const padded = (bytes: number) => "attribute_exists(pk)".padEnd(bytes, " ");
    await expect(c.send(scan(padded(4096), {}))).resolves.toBeDefined();
    await expect(c.send(scan(padded(4097), {}))).rejects.toMatchObject(
      is("Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 4097"),
    );
    const update = `SET a = :v${" ".repeat(4090)}`;
    await expect(c.send(new UpdateItemCommand({ TableName: TABLE, Key: key(), UpdateExpression: update, ExpressionAttributeValues: { ":v": { S: "x" } } }))).rejects.toMatchObject(
      is(/^Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; expression size: 4100$/),
    );
  });

  test("IN takes at most 100 operands", async () => {
    const inList = (n: number) => scan(`pk IN (${Array.from({ length: n }, (_, i) => `:v${i}`).join(", ")})`, Object.fromEntries(Array.from({ length: n }, (_, i) => [`:v${i}`, { S: "x" }])));
    await expect(c.send(inList(100))).resolves.toBeDefined();
    await expect(c.send(inList(101))).rejects.toMatchObject(is("Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 101"));
  });

  test("a placeholder is at most 255 bytes", async () => {
    const named = (len: number) => `:${"a".repeat(len - 1)}`;
    await expect(c.send(scan(`pk = ${named(255)}`, { [named(255)]: { S: "x" } }))).resolves.toBeDefined();
    await expect(c.send(scan(`pk = ${named(256)}`, { [named(256)]: { S: "x" } }))).rejects.toMatchObject(is(/ExpressionAttributeValues contains invalid key/));
    const name = `#${"n".repeat(255)}`;
    const cmd = new ScanCommand({ TableName: TABLE, FilterExpression: `attribute_exists(${name})`, ExpressionAttributeNames: { [name]: "pk" } });
    await expect(c.send(cmd)).rejects.toMatchObject(is(/ExpressionAttributeNames contains invalid key/));
  });

  test("all names and values of an expression together: at most 2 MB", async () => {
    const values = (n: number, bytes: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`:v${i}`, { S: "x".repeat(bytes) }]));
    const filter = (n: number) => Array.from({ length: n }, (_, i) => `pk <> :v${i}`).join(" AND ");
    await expect(c.send(scan(filter(5), values(5, 400_000)))).resolves.toBeDefined(); // 2 000 015 bytes
    await expect(c.send(scan(filter(6), values(6, 360_000)))).rejects.toMatchObject(is(/together exceed the maximum of 2097152 bytes/));
  });
});

describe("batches", () => {
  const writes = (table: string, n: number): WriteRequest[] =>
    Array.from({ length: n }, (_, i) => ({ PutRequest: { Item: table === TABLE ? key() : { pk: { S: `o${++seq}-${i}` } } } }));

  test("BatchWriteItem: 25 requests in all, across tables", async () => {
    await expect(c.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: writes(TABLE, 13), [OTHER]: writes(OTHER, 12) } }))).resolves.toBeDefined();
    await expect(c.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: writes(TABLE, 13), [OTHER]: writes(OTHER, 13) } }))).rejects.toMatchObject(
      is("Too many items requested for the BatchWriteItem call"),
    );
    // 26 in one table: dynalite refuses it with DynamoDB's constraint message.
    await expect(c.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: writes(TABLE, 26) } }))).rejects.toMatchObject(is(/Member must have length less than or equal to 25/));
  });

  test("BatchGetItem: 100 keys in all (dynalite enforces it)", async () => {
    const keys = (n: number) => Array.from({ length: n }, () => key());
    const other = (n: number) => Array.from({ length: n }, (_, i) => ({ pk: { S: `g${++seq}-${i}` } }));
    await expect(c.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: keys(50) }, [OTHER]: { Keys: other(50) } } }))).resolves.toBeDefined();
    await expect(c.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: keys(51) }, [OTHER]: { Keys: other(50) } } }))).rejects.toMatchObject(
      is("Too many items requested for the BatchGetItem call"),
    );
  });
});

describe("transactions (dynalite has no TransactWriteItems: a request within the limits reaches it and gets UnknownOperationException)", () => {
  const puts = (n: number, bytes = 0) => new TransactWriteItemsCommand({
    TransactItems: Array.from({ length: n }, () => ({ Put: { TableName: TABLE, Item: { ...key(), ...(bytes ? { d: { S: "x".repeat(bytes) } } : {}) } } })),
  });
  const passedValidation = { name: "UnknownOperationException" };

  test("at most 100 actions", async () => {
    await expect(c.send(puts(100))).rejects.toMatchObject(passedValidation);
    await expect(c.send(puts(101))).rejects.toMatchObject(is(/at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100$/));
  });

  test("at most 4 MB of items", async () => {
    await expect(c.send(puts(10, 400_000))).rejects.toMatchObject(passedValidation);
    await expect(c.send(puts(11, 400_000))).rejects.toMatchObject(is(/aggregate size of the items in the transaction exceeding the 4MB limit/));
  });

  test("one action per item; each item within the item limits", async () => {
    const k = key();
    const twice = new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: TABLE, Item: k } }, { Delete: { TableName: TABLE, Key: k } }] });
    await expect(c.send(twice)).rejects.toMatchObject(is("Transaction request cannot include multiple operations on one item"));
    const deepPut = new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: TABLE, Item: { ...key(), d: deep(32) } } }] });
    await expect(c.send(deepPut)).rejects.toMatchObject(is(NESTING));
  });
});

describe("limits dynalite enforces itself, through the proxy", () => {
  test("numbers: 38 significant digits, magnitude 1E-130 to 9.99…E+125", async () => {
    const n = (v: string) => put({ n: { N: v } });
    for (const ok of ["1" + "2".repeat(37), "9.9999999999999999999999999999999999999E+125", "1E-130", "-1E-130"]) await expect(c.send(n(ok))).resolves.toBeDefined();
    await expect(c.send(n("1" + "2".repeat(38)))).rejects.toMatchObject(is("Attempting to store more than 38 significant digits in a Number"));
    await expect(c.send(n("1E+126"))).rejects.toMatchObject(is(/^Number overflow/));
    await expect(c.send(n("1E-131"))).rejects.toMatchObject(is(/^Number underflow/));
  });

  test("sets may not be empty", async () => {
    await expect(c.send(put({ s: { SS: ["a"] } }))).resolves.toBeDefined();
    await expect(c.send(put({ s: { SS: [] } }))).rejects.toMatchObject(is("One or more parameter values were invalid: An string set  may not be empty"));
  });
});

describe("the size and depth arithmetic", () => {
  test("the developer guide's example item is 23 bytes", () => {
    expect(itemSize({ "shirt-color": { S: "R" }, "shirt-size": { S: "M" } })).toBe(23);
  });

  test("numbers, binaries, lists, maps", () => {
    expect([numberSize("0"), numberSize("42"), numberSize("-42"), numberSize("0.001"), numberSize("1.5E3"), numberSize("12345")]).toEqual([1, 2, 3, 2, 2, 4]);
    expect(attributeValueSize({ B: Buffer.from("abc").toString("base64") })).toBe(3);
    expect(attributeValueSize({ L: [{ S: "ab" }, { BOOL: true }] })).toBe(3 + 1 + 2 + 1 + 1);
    expect(attributeValueSize({ M: { k: { S: "ab" } } })).toBe(3 + 1 + 1 + 2);
    expect([nestingDepth({ S: "x" }), nestingDepth({ M: {} }), nestingDepth(deep(3) as never), nestingDepth(deep(1000) as never)]).toEqual([0, 0, 3, 32]);
  });
});
