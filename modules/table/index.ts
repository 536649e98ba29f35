/**
 * A DynamoDB table with PITR, encryption and TTL on, and grants scoped to its ARN:
 *
 *   const table = new CacheTable(this, "products", { partitionKey: { name: "productId", type: "S" } });
 *   table.grantReadData(fn);
 */
import { DynamodbTable, DynamodbTableGlobalSecondaryIndex } from "@cdktf/provider-aws/lib/dynamodb-table";
import { Token } from "cdktf";
import { Construct, IConstruct } from "constructs";
import type { IndexSpec, KeyAttribute, TableSpec } from "../../functions/lib/contract";
import { IGrantable, PolicyStatement } from "../iam";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import { autoscale, indexLayoutCondition, Scaling } from "./autoscaling";
import {
  KEY_READ_ACTIONS, KEY_WRITE_ACTIONS, READ_DATA_ACTIONS, STREAM_LIST_ACTIONS, STREAM_READ_ACTIONS, WRITE_DATA_ACTIONS,
} from "./perms";

export type { KeyAttribute, TableSpec } from "../../functions/lib/contract";
/** A global secondary index (the contract's index layout). */
export type GlobalSecondaryIndex = IndexSpec;

/**
 * A DynamoDB table a function can be wired to (`fn.useTable(table)`), owned by this stack or not:
 * its name and ARN for grants, and its key layout, which the function's contract is checked against.
 */
export interface ITable extends IConstruct {
  /** @attribute The table's name. */
  readonly tableName: string;
  /** @attribute The table's ARN. */
  readonly tableArn: string;
  /** The table's partition key. */
  readonly partitionKey: KeyAttribute;
  /** The table's sort key, when it has one. */
  readonly sortKey?: KeyAttribute;
  /** The TTL attribute, when TTL is on. */
  readonly timeToLiveAttribute?: string;
  /** The table's global secondary indexes. */
  readonly globalSecondaryIndexes: readonly GlobalSecondaryIndex[];
  /** Lets `grantee` read items and query the table and its indexes. */
  grantReadData(grantee: IGrantable): void;
  /** Lets `grantee` read and write items (no table management). */
  grantReadWriteData(grantee: IGrantable): void;
}

/** What a stream record of a table carries besides the keys. */
export type StreamViewType = "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES" | "KEYS_ONLY";

/**
 * A table whose change stream a consumer reads (`StreamInvalidator`): the consumer turns the
 * stream on and is granted reading it, so a table without a consumer has no stream.
 */
export interface IStreamTable extends ITable {
  /** Turns the stream on (`KEYS_ONLY` unless a view type was chosen) and returns its ARN. */
  enableStream(): string;
  /**
   * Lets `grantee` read the stream: DescribeStream, GetShardIterator and GetRecords on it,
   * ListStreams on the table's streams, and kms:Decrypt with a customer-managed key.
   */
  grantStreamRead(grantee: IGrantable): void;
}

/**
 * Capacity of one global secondary index under provisioned billing. DynamoDB scales an index apart
 * from its table, so each index gets its own autoscaling; every field left out takes the table's.
 */
export interface IndexCapacity {
  /** Minimum (and initial) read capacity units of the index. @default the table's readCapacity */
  readonly readCapacity?: number;
  /** Minimum (and initial) write capacity units of the index. @default the table's writeCapacity */
  readonly writeCapacity?: number;
  /** Ceiling autoscaling may raise the index's read capacity to. @default the table's maxReadCapacity, else 10 × the index's readCapacity */
  readonly maxReadCapacity?: number;
  /** Ceiling autoscaling may raise the index's write capacity to. @default the table's maxWriteCapacity, else 10 × the index's writeCapacity */
  readonly maxWriteCapacity?: number;
  /** Target utilization percent of the index's autoscaling (20–90). @default the table's targetUtilizationPercent */
  readonly targetUtilizationPercent?: number;
}

/**
 * Provisioned capacity settings: the table and each of its global secondary indexes are
 * autoscaled between their floor and ceiling.
 */
export interface ProvisionedCapacity {
  /** Minimum (and initial) read capacity units. */
  readonly readCapacity: number;
  /** Minimum (and initial) write capacity units. */
  readonly writeCapacity: number;
  /** Ceiling autoscaling may raise read capacity to. @default 10 × readCapacity */
  readonly maxReadCapacity?: number;
  /** Ceiling autoscaling may raise write capacity to. @default 10 × writeCapacity */
  readonly maxWriteCapacity?: number;
  /** Target utilization percent for autoscaling (20–90). @default 70 */
  readonly targetUtilizationPercent?: number;
  /**
   * Capacity of global secondary indexes, by index name.
   * @default each index autoscales with the table's floor, ceiling and target
   */
  readonly indexes?: Readonly<Record<string, IndexCapacity>>;
  /**
   * Let Terraform change the global secondary indexes (add, remove, or change keys or projection)
   * in this deploy. Autoscaling owns the indexes' capacity, and the AWS provider cannot ignore only
   * an index's capacity (hashicorp/terraform-provider-aws#671), so Terraform otherwise leaves the
   * indexes alone once created, and a plan with a changed index layout fails, naming this prop.
   * The deploy that applies a change also resets every index's capacity to its floor, which
   * autoscaling raises again as traffic needs.
   * @default false
   */
  readonly applyIndexChanges?: boolean;
}

/** How the table is billed. */
export class Billing {
  /** Pay per request: no capacity to plan, no throttling from under-provisioning. */
  static onDemand(): Billing {
    return new Billing("PAY_PER_REQUEST");
  }
  /** Provisioned capacity with target-tracking autoscaling on reads and writes of the table and of each global secondary index. */
  static provisioned(capacity: ProvisionedCapacity): Billing {
    return new Billing("PROVISIONED", capacity);
  }
  private constructor(
    /** DynamoDB billing mode: `PAY_PER_REQUEST` (on demand) or `PROVISIONED`. */
    public readonly mode: "PAY_PER_REQUEST" | "PROVISIONED",
    /** Capacity floor, ceiling and autoscaling target; only in provisioned mode. */
    public readonly capacity?: ProvisionedCapacity,
  ) {}
}

/**
 * Props of {@link CacheTable}: a key layout (often a function contract's `table`, so the table is
 * made to fit the handler) plus how the table is run.
 */
export interface CacheTableProps extends TableSpec {
  /**
   * Attribute holding the expiry time (epoch seconds); DynamoDB deletes expired items for free.
   * @default "expiresAt"
   */
  readonly timeToLiveAttribute?: string;
  /**
   * Table name (3–255 of a-z, A-Z, 0-9, `_`, `-`, `.`).
   * @default derived from the construct path
   */
  readonly tableName?: string;
  /**
   * Billing mode.
   * @default Billing.onDemand()
   */
  readonly billing?: Billing;
  /**
   * Stream of item changes and what each record carries. A `StreamInvalidator` reading the table
   * turns the stream on itself.
   * @default no stream; `KEYS_ONLY` once a consumer reads it (invalidation needs the keys only)
   */
  readonly stream?: StreamViewType;
  /**
   * Customer-managed KMS key ARN for server-side encryption.
   * @default the AWS-managed key `aws/dynamodb` (encryption is always on)
   */
  readonly kmsKeyArn?: string;
  /**
   * Point-in-time recovery (continuous backups, 35 days).
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * Refuse `DeleteTable` until turned off.
   * @default true in prod, false in dev
   */
  readonly deletionProtection?: boolean;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

const NAME_RE = /^[a-zA-Z0-9_.-]{3,255}$/;

/**
 * What every table wiring can use shares: the grants (data, stream), by ARN. A table this stack
 * creates ({@link CacheTable}) and one it imports ({@link CacheTable.fromAttributes}) grant alike.
 */
abstract class TableBase extends Construct {
  abstract readonly tableArn: string;
  abstract readonly streamArn: string;
  protected abstract readonly kmsKeyArn?: string;

  /** Read the stream (the actions Lambda's event source mapping uses), and decrypt it with a customer-managed key. */
  grantStreamRead(grantee: IGrantable): void {
    const statements: PolicyStatement[] = [
      { actions: [...STREAM_READ_ACTIONS], resources: [this.streamArn] },
      { actions: [...STREAM_LIST_ACTIONS], resources: [`${this.tableArn}/stream/*`] },
    ];
    if (this.kmsKeyArn) statements.push({ actions: ["kms:Decrypt"], resources: [this.kmsKeyArn] });
    grantee.grantPrincipal.addToPrincipalPolicy(`${this.policyPrefix()}-stream-read`, statements);
  }

  /** ARNs a grant covers: the table and all its indexes. */
  get grantArns(): string[] {
    return [this.tableArn, `${this.tableArn}/index/*`];
  }

  /** Read items and query the table and its indexes. */
  grantReadData(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(`${this.policyPrefix()}-read`, this.statements(false));
  }

  /** Read and write items (no table management). */
  grantReadWriteData(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(`${this.policyPrefix()}-read-write`, this.statements(true));
  }

  protected statements(write: boolean): PolicyStatement[] {
    const out: PolicyStatement[] = [
      { actions: write ? [...READ_DATA_ACTIONS, ...WRITE_DATA_ACTIONS] : [...READ_DATA_ACTIONS], resources: this.grantArns },
    ];
    if (this.kmsKeyArn) {
      out.push({ actions: write ? [...KEY_READ_ACTIONS, ...KEY_WRITE_ACTIONS] : [...KEY_READ_ACTIONS], resources: [this.kmsKeyArn] });
    }
    return out;
  }

  /** Unique per table (derived from the full construct path), so two tables never share a grant name. */
  protected policyPrefix(): string {
    return `table-${physicalName(this, 80)}`;
  }
}

/**
 * A DynamoDB table for data that is cached in front: encrypted, PITR on, TTL on, deletion
 * protection in prod, on-demand by default; permissions only through its grant methods.
 */
export class CacheTable extends TableBase implements IStreamTable {
  /** The Terraform `aws_dynamodb_table` resource. */
  public readonly resource: DynamodbTable;
  /** @attribute The table's name. */
  public readonly tableName: string;
  /** @attribute The table's ARN. */
  public readonly tableArn: string;
  /** @attribute — empty unless the stream is on (`stream`, or a consumer called `enableStream`). */
  public readonly streamArn: string;
  /** The table's partition key. */
  public readonly partitionKey: KeyAttribute;
  /** The table's sort key, when it has one. */
  public readonly sortKey?: KeyAttribute;
  /** The TTL attribute in force (epoch seconds). */
  public readonly timeToLiveAttribute: string;
  /** The global secondary indexes, in the order given. */
  public readonly globalSecondaryIndexes: readonly GlobalSecondaryIndex[];
  /** Names of the global secondary indexes, in the order given. */
  public readonly indexNames: readonly string[];
  protected readonly kmsKeyArn?: string;

  /**
   * A table that already exists (another stack's or team's): wiring grants on its ARN and checks its
   * layout against the contract, and nothing of the table is created or changed. A stream consumer
   * (`StreamInvalidator`) needs the stream on already: its owner turns it on and gives `streamArn`.
   *
   *   const orders = CacheTable.fromAttributes(this, "orders", {
   *     tableName: "orders", tableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/orders", ...PRODUCTS_TABLE,
   *   });
   */
  static fromAttributes(scope: Construct, id: string, attrs: TableAttributes): IStreamTable {
    return new ImportedTable(scope, id, attrs);
  }

  constructor(scope: Construct, id: string, props: CacheTableProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const name = props.tableName ?? physicalName(this, 255);
    const billing = props.billing ?? Billing.onDemand();
    const ttlAttr = props.timeToLiveAttribute ?? "expiresAt";
    const gsis = props.globalSecondaryIndexes ?? [];

    const v = PropsValidator.for(this)
      .matches("tableName", name, NAME_RE, "3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'")
      .check(props.partitionKey.name.length >= 1 && props.partitionKey.name.length <= 255, "partitionKey.name",
        props.partitionKey.name, "1-255 characters")
      .oneOf("partitionKey.type", props.partitionKey.type, ["S", "N", "B"])
      .check(ttlAttr.length >= 1 && ttlAttr.length <= 255, "timeToLiveAttribute", ttlAttr, "1-255 characters");
    if (props.sortKey) {
      v.oneOf("sortKey.type", props.sortKey.type, ["S", "N", "B"])
        .check(props.sortKey.name !== props.partitionKey.name, "sortKey.name", props.sortKey.name,
          "a name different from the partition key");
    }
    v.check(gsis.length <= 20, "globalSecondaryIndexes", gsis.length, "at most 20 indexes");
    const seen = new Set<string>();
    gsis.forEach((g, i) => {
      v.matches(`globalSecondaryIndexes[${i}].indexName`, g.indexName, NAME_RE, "3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'");
      v.check(!seen.has(g.indexName), `globalSecondaryIndexes[${i}].indexName`, g.indexName, "a name not used by another index");
      seen.add(g.indexName);
    });
    if (billing.capacity) {
      const c = billing.capacity;
      v.intRange("billing.readCapacity", c.readCapacity, 1, 40000)
        .intRange("billing.writeCapacity", c.writeCapacity, 1, 40000)
        .intRange("billing.maxReadCapacity", c.maxReadCapacity, c.readCapacity, 40000)
        .intRange("billing.maxWriteCapacity", c.maxWriteCapacity, c.writeCapacity, 40000)
        .intRange("billing.targetUtilizationPercent", c.targetUtilizationPercent, 20, 90);
      for (const [indexName, ic] of Object.entries(c.indexes ?? {})) {
        const f = `billing.indexes.${indexName}`;
        v.check(seen.has(indexName), f, indexName,
          `the name of one of the table's globalSecondaryIndexes (${[...seen].map((n) => JSON.stringify(n)).join(", ") || "it has none"})`);
        const s = scalingOf(c, ic);
        v.intRange(`${f}.readCapacity`, ic.readCapacity, 1, 40000)
          .intRange(`${f}.writeCapacity`, ic.writeCapacity, 1, 40000)
          .intRange(`${f}.targetUtilizationPercent`, ic.targetUtilizationPercent, 20, 90);
        for (const [dim, range] of [["Read", s.read], ["Write", s.write]] as const) {
          v.check(Number.isInteger(range.max) && range.max >= range.min && range.max <= 40000, `${f}.max${dim}Capacity`, range.max,
            `an integer from the index's ${dim.toLowerCase()}Capacity (${range.min}) to 40000` +
              (ic[`max${dim}Capacity`] !== undefined ? ""
                : c[`max${dim}Capacity`] !== undefined ? `; unset, it is the table's max${dim}Capacity`
                  : `; unset, it is 10 × the index's ${dim.toLowerCase()}Capacity`));
        }
      }
    }
    // Every key attribute must be declared once with one type.
    const attributes = new Map<string, string>();
    const declare = (k: KeyAttribute, field: string) => {
      const prior = attributes.get(k.name);
      v.check(prior === undefined || prior === k.type, field, k, `type ${prior} (the type "${k.name}" has elsewhere)`);
      attributes.set(k.name, k.type);
    };
    const declaredBy = new Map<string, string>();
    const keyOf = (k: KeyAttribute, field: string) => {
      declare(k, field);
      if (!declaredBy.has(k.name)) declaredBy.set(k.name, field);
    };
    keyOf(props.partitionKey, "partitionKey");
    if (props.sortKey) keyOf(props.sortKey, "sortKey");
    gsis.forEach((g, i) => {
      keyOf(g.partitionKey, `globalSecondaryIndexes[${i}].partitionKey`);
      if (g.sortKey) keyOf(g.sortKey, `globalSecondaryIndexes[${i}].sortKey`);
    });
    // TTL deletes only items whose TTL attribute is a Number; a key of type S or B can never hold one.
    const ttlType = attributes.get(ttlAttr);
    v.check(ttlType === undefined || ttlType === "N", "timeToLiveAttribute", ttlAttr,
      `an attribute that can hold a Number (epoch seconds): ${JSON.stringify(ttlAttr)} is a key attribute of type ${ttlType} ` +
        `(${declaredBy.get(ttlAttr)}), so DynamoDB TTL would never expire an item`);
    v.kmsKeyArn("kmsKeyArn", props.kmsKeyArn);
    v.throwIfAny();

    this.partitionKey = props.partitionKey;
    this.sortKey = props.sortKey;
    this.timeToLiveAttribute = ttlAttr;
    this.globalSecondaryIndexes = [...gsis];
    this.indexNames = gsis.map((g) => g.indexName);
    this.kmsKeyArn = props.kmsKeyArn;
    const cap = billing.capacity;
    // Autoscaling owns capacity once it exists; Terraform must not fight it. The provider cannot
    // ignore only an index's capacity (the indexes are a set), so it ignores the indexes, and a
    // postcondition turns a changed index layout into a failed plan instead of a silent no-op.
    const ignoreIndexes = cap !== undefined && gsis.length > 0 && !cap.applyIndexChanges;

    const indexBlocks: DynamodbTableGlobalSecondaryIndex[] = gsis.map((g) => {
      const proj = g.projection ?? "ALL";
      const s = cap ? scalingOf(cap, cap.indexes?.[g.indexName]) : undefined;
      return {
        name: g.indexName,
        hashKey: g.partitionKey.name,
        rangeKey: g.sortKey?.name,
        projectionType: typeof proj === "string" ? proj : "INCLUDE",
        nonKeyAttributes: typeof proj === "string" ? undefined : [...proj],
        readCapacity: s?.read.min,
        writeCapacity: s?.write.min,
      };
    });

    this.resource = new DynamodbTable(this, "table", {
      name,
      billingMode: billing.mode,
      readCapacity: cap?.readCapacity,
      writeCapacity: cap?.writeCapacity,
      hashKey: props.partitionKey.name,
      rangeKey: props.sortKey?.name,
      attribute: [...attributes.entries()].map(([n, t]) => ({ name: n, type: t })),
      globalSecondaryIndex: indexBlocks.length ? indexBlocks : undefined,
      ttl: { attributeName: ttlAttr, enabled: true },
      pointInTimeRecovery: { enabled: props.pointInTimeRecovery ?? true },
      serverSideEncryption: { enabled: true, kmsKeyArn: props.kmsKeyArn },
      deletionProtectionEnabled: props.deletionProtection ?? byProfile(profile, { dev: false, prod: true }),
      streamEnabled: props.stream ? true : undefined,
      streamViewType: props.stream,
      lifecycle: cap
        ? {
            ignoreChanges: ["read_capacity", "write_capacity", ...(ignoreIndexes ? ["global_secondary_index"] : [])],
            postcondition: ignoreIndexes
              ? [{
                  condition: indexLayoutCondition(indexBlocks),
                  errorMessage:
                    `The global secondary indexes of ${this.node.path} differ from its configuration. Terraform leaves the indexes of ` +
                    "an autoscaled provisioned table alone (autoscaling owns their capacity), so the change would not be applied. " +
                    "Deploy it once with Billing.provisioned({ ..., applyIndexChanges: true }), which also resets each index's " +
                    "capacity to its floor, then remove applyIndexChanges.",
                }]
              : undefined,
          }
        : undefined,
    });
    this.tableName = this.resource.name;
    this.tableArn = this.resource.arn;
    this.streamArn = this.resource.streamArn;

    if (cap) {
      autoscale(this, { idPrefix: "", resourceId: `table/${this.tableName}`, kind: "table", policyName: name, scaling: scalingOf(cap) });
      for (const g of gsis) {
        autoscale(this, {
          idPrefix: `index-${g.indexName}-`,
          resourceId: `table/${this.tableName}/index/${g.indexName}`,
          kind: "index",
          policyName: `${name}-${g.indexName}`,
          scaling: scalingOf(cap, cap.indexes?.[g.indexName]),
        });
      }
    }
  }

  /** The stream's view type, once it is on. */
  get streamViewType(): StreamViewType | undefined {
    return this.resource.streamViewTypeInput as StreamViewType | undefined;
  }

  /** Turns the stream on (`KEYS_ONLY` unless `stream` chose a view type: every view carries the keys) and returns its ARN. */
  enableStream(): string {
    if (!this.resource.streamEnabledInput) {
      this.resource.streamEnabled = true;
      this.resource.streamViewType = "KEYS_ONLY";
    }
    return this.streamArn;
  }

}

/** The floor, ceiling and target of the table (no `index`) or of an index, after defaults. */
function scalingOf(cap: ProvisionedCapacity, index?: IndexCapacity): Scaling {
  const read = index?.readCapacity ?? cap.readCapacity;
  const write = index?.writeCapacity ?? cap.writeCapacity;
  return {
    read: { min: read, max: index?.maxReadCapacity ?? cap.maxReadCapacity ?? read * 10 },
    write: { min: write, max: index?.maxWriteCapacity ?? cap.maxWriteCapacity ?? write * 10 },
    targetUtilizationPercent: index?.targetUtilizationPercent ?? cap.targetUtilizationPercent ?? 70,
  };
}

/** What {@link CacheTable.fromAttributes} needs to know of a table that exists. */
export interface TableAttributes extends TableSpec {
  /** The table's name. */
  readonly tableName: string;
  /** The table's ARN, e.g. `arn:aws:dynamodb:eu-west-1:123456789012:table/orders`. */
  readonly tableArn: string;
  /** Its customer-managed KMS key, which grants then cover too. @default none (an AWS-owned or AWS-managed key) */
  readonly kmsKeyArn?: string;
  /** Its stream's ARN, when the stream is on. @default none: a stream consumer is a synth error */
  readonly streamArn?: string;
}

/** A DynamoDB table ARN (partition, region, account, name). */
export const TABLE_ARN_RE = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/;

/** A table this stack does not own; see {@link CacheTable.fromAttributes}. */
class ImportedTable extends TableBase implements IStreamTable {
  public readonly tableName: string;
  public readonly tableArn: string;
  public readonly streamArn: string;
  public readonly partitionKey: KeyAttribute;
  public readonly sortKey?: KeyAttribute;
  public readonly timeToLiveAttribute?: string;
  public readonly globalSecondaryIndexes: readonly GlobalSecondaryIndex[];
  protected readonly kmsKeyArn?: string;

  constructor(scope: Construct, id: string, private readonly attrs: TableAttributes) {
    super(scope, id);
    const literal = (v: string, re: RegExp) => Token.isUnresolved(v) || re.test(v);
    const v = PropsValidator.for(this);
    v.check(literal(attrs.tableName, NAME_RE), "tableName", attrs.tableName, "3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'");
    v.check(literal(attrs.tableArn, TABLE_ARN_RE), "tableArn", attrs.tableArn,
      "a DynamoDB table ARN, e.g. \"arn:aws:dynamodb:eu-west-1:123456789012:table/orders\"");
    if (!Token.isUnresolved(attrs.tableArn) && !Token.isUnresolved(attrs.tableName) && TABLE_ARN_RE.test(attrs.tableArn)) {
      v.check(attrs.tableArn.endsWith(`:table/${attrs.tableName}`), "tableArn", attrs.tableArn, `the ARN of table ${attrs.tableName}`);
    }
    if (attrs.kmsKeyArn !== undefined) v.kmsKeyArn("kmsKeyArn", attrs.kmsKeyArn);
    if (attrs.streamArn !== undefined) {
      v.check(Token.isUnresolved(attrs.streamArn) || /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]+\/stream\/.+$/.test(attrs.streamArn),
        "streamArn", attrs.streamArn, "the table's stream ARN, e.g. \"arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000\"");
    }
    v.throwIfAny();
    this.tableName = attrs.tableName;
    this.tableArn = attrs.tableArn;
    this.streamArn = attrs.streamArn ?? "";
    this.partitionKey = attrs.partitionKey;
    this.sortKey = attrs.sortKey;
    this.timeToLiveAttribute = attrs.timeToLiveAttribute;
    this.globalSecondaryIndexes = attrs.globalSecondaryIndexes ?? [];
    this.kmsKeyArn = attrs.kmsKeyArn;
  }

  /** The stream is the owner's to turn on: this returns its ARN, or fails synthesis saying so. */
  enableStream(): string {
    PropsValidator.for(this)
      .check(this.attrs.streamArn !== undefined, "streamArn", undefined,
        "the ARN of the table's stream: a stream consumer reads it, and only the table's owner can turn it on (any view type carries the keys)")
      .throwIfAny();
    return this.streamArn;
  }
}
