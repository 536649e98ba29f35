/**
 * A Lambda function built from a handler's contract (`functions/<name>/contract.ts`): it bundles
 * the contract's entry, writes the runtime's settings into the environment from typed values, and
 * gets its network paths and permissions only by being wired to other constructs:
 *
 *   const fn = new CacheAsideFunction(this, "fn", { network, contract: PRODUCTS, settings: { ttlSeconds: 300 } });
 *   fn.useTable(table, { write: true }); fn.useCache(cache); fn.useDax(dax);
 */
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { AssetType, Lazy, TerraformAsset, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { existsSync } from "fs";
import * as path from "path";
import {
  cacheBackendSupports, CONNECTIONS, formatSetting, FunctionContract, neededCacheOperations, RUNTIME_SETTINGS, Setting, SettingsOf,
} from "../../functions/lib/contract";
import type { IDaxCluster } from "../dax";
import { IGrantable, IPrincipal, Role } from "../iam";
import { LogGroup } from "../logs";
import type { INetwork } from "../network";
import type { CacheConnection, ICache } from "../redis/cache";
import type { ITable } from "../table";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { packageRoot } from "../core/project-root";
import { PropsValidator } from "../core/validation";
import { Connections, IConnectable, SecurityGroup } from "../security-group";
import { bundleHandler, Bundle } from "./bundle";
import { resolveSettings } from "./settings";

/**
 * Node.js runtimes this module set supports: those in AWS standard support that AWS provider
 * 5.100 accepts (AWS deprecated nodejs20.x in April 2026).
 */
export type NodeRuntime = "nodejs22.x";
/** Every {@link NodeRuntime}, for validation and iteration. */
export const SUPPORTED_RUNTIMES: readonly NodeRuntime[] = ["nodejs22.x"];

/** The runtime's common settings, as a contract declares settings. */
type RuntimeSettings = typeof RUNTIME_SETTINGS;

/**
 * Typed runtime settings of a function built from contract `C`: the runtime's common ones
 * (`ttlSeconds`, `serviceName`, …) and the contract's own. Each is checked against its range at
 * synth time and written as its environment variable.
 */
export type FunctionSettings<C extends FunctionContract = FunctionContract> = Partial<SettingsOf<RuntimeSettings> & SettingsOf<C["settings"]>>;

/** Props of {@link CacheAsideFunction}. */
export interface CacheAsideFunctionProps<C extends FunctionContract = FunctionContract> {
  /** The VPC the function runs in, in all its private subnets. */
  readonly network: INetwork;
  /**
   * The handler's contract: its entry file (bundled by esbuild at synth time), routes, settings,
   * table layout and cache keys. `PRODUCTS` and `SESSIONS` are the handlers this package ships
   * (their entries resolve against the package root); for your own, `defineContract` with an
   * absolute `entry`, e.g. `path.join(__dirname, "handler.ts")`.
   */
  readonly contract: C;
  /**
   * Runtime settings, typed: the runtime's common ones (TTLs, leases, breaker, service name, …)
   * and the contract's own. Out-of-range values fail synthesis, as the Lambda would fail at cold start.
   * @default each setting's default (help/runtime.md), except `serviceName` = the stack's id and
   * `metricsNamespace` = `Cachefront/<serviceName>`, so two services' metrics, dashboards and alarms
   * never mix; every setting is written to the environment
   */
  readonly settings?: FunctionSettings<C>;
  /**
   * Exported handler function name.
   * @default "handler"
   */
  readonly handlerExport?: string;
  /**
   * Function name (≤ 64 characters of letters, digits, `-` and `_`).
   * @default derived from the construct path
   */
  readonly functionName?: string;
  /**
   * What the function does.
   * @default the construct path
   */
  readonly description?: string;
  /**
   * Node.js runtime.
   * @default "nodejs22.x"
   */
  readonly runtime?: NodeRuntime;
  /**
   * Instruction set. Graviton is about 20 % cheaper per GB-second for the same work.
   * @default "arm64"
   */
  readonly architecture?: "arm64" | "x86_64";
  /**
   * Memory in MB (128–10240). Lambda allocates CPU in proportion, so it also sets speed.
   * @default 512 in prod, 256 in dev
   */
  readonly memorySize?: number;
  /**
   * Timeout in seconds (1–900). Kept below API Gateway's 29 s integration limit by default.
   * @default 10
   */
  readonly timeoutSeconds?: number;
  /**
   * Reserved concurrency: caps the function so a traffic spike cannot exhaust the cache's
   * connection limit or the account's concurrency.
   * @default none (unreserved)
   */
  readonly reservedConcurrency?: number;
  /**
   * Days to keep the function's logs.
   * @default 90 in prod, 14 in dev
   */
  readonly logRetentionDays?: number;
  /**
   * Extra environment variables for your own handler's code: names and endpoints only. Names that
   * look like secrets (password, secret, token, api key) are refused (pass a secret's ARN), and so
   * are the runtime's own variables (use `settings` or wiring).
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Packages the Lambda runtime provides and that are left out of the bundle.
   * @default ["@aws-sdk/*", "@smithy/*"] (the AWS SDK v3 preinstalled in Node.js runtimes)
   */
  readonly externalModules?: readonly string[];
  /**
   * Ship a source map and turn on `--enable-source-maps` so stack traces point at the TypeScript.
   * @default true
   */
  readonly sourceMap?: boolean;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

const SECRET_NAME_RE = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;
const REFERENCE_SUFFIX_RE = /(_ARN|_NAME|_ID)$/i;
/** Variables the runtime owns: set through `settings` or wiring, never through `environment`. */
const OWNED_ENV = new Set([...Object.values(RUNTIME_SETTINGS), ...Object.values(CONNECTIONS)].map((s: Setting) => s.env));

/**
 * A VPC-attached Lambda function with its own security group, log group, least-privilege
 * role and X-Ray tracing, whose code is bundled from `functions/`.
 */
export class CacheAsideFunction<C extends FunctionContract = FunctionContract> extends Construct implements IGrantable, IConnectable {
  /** The Terraform `aws_lambda_function` resource. */
  public readonly resource: LambdaFunction;
  /** The execution role: logs, VPC access and X-Ray, plus whatever wiring grants. */
  public readonly role: Role;
  /** The function's log group (`/aws/lambda/<name>`), created with a retention. */
  public readonly logGroup: LogGroup;
  /** The function's security group: no ingress, egress only to what it is wired to. */
  public readonly securityGroup: SecurityGroup;
  /** The function's security group, for wiring (a Lambda listens on no port). */
  public readonly connections: Connections;
  /** The execution role, which grants (`table.grantReadData(fn)`) add policies to. */
  public readonly grantPrincipal: IPrincipal;
  /** The bundle deployed (path, content hash, size). */
  public readonly bundle: Bundle;
  /** @attribute The function's name. */
  public readonly functionName: string;
  /** @attribute The function's ARN. */
  public readonly functionArn: string;
  /** @attribute — the ARN API Gateway integrations invoke. */
  public readonly invokeArn: string;
  /** The network the function runs in (its private subnets). */
  public readonly network: INetwork;
  /** The handler's contract. */
  public readonly contract: C;
  /** Every runtime setting in force (given or default), by key; the environment holds the same values. */
  public readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** Timeout in seconds, after defaults. */
  public readonly timeoutSeconds: number;
  private readonly env: Record<string, string> = {};
  /** The table the handler reads as TABLE_NAME, once wired. */
  private handlerTable?: ITable;
  /** DAX clusters wired with useDax; each must front {@link handlerTable}. */
  private readonly daxClusters: IDaxCluster[] = [];

  constructor(scope: Construct, id: string, props: CacheAsideFunctionProps<C>) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const contract = props.contract;
    const name = props.functionName ?? physicalName(this, 64);
    const memorySize = props.memorySize ?? byProfile(profile, { dev: 256, prod: 512 });
    const timeout = props.timeoutSeconds ?? 10;
    const runtime = props.runtime ?? "nodejs22.x";
    const entry = path.isAbsolute(contract.entry) ? contract.entry : path.join(packageRoot(), contract.entry);

    const v = PropsValidator.for(this)
      .matches("functionName", name, /^[A-Za-z0-9_-]{1,64}$/, "1-64 characters of letters, digits, '-' and '_'")
      .intRange("memorySize", memorySize, 128, 10240)
      .intRange("timeoutSeconds", timeout, 1, 900)
      .intRange("reservedConcurrency", props.reservedConcurrency, 0, 100000)
      .oneOf("runtime", runtime, SUPPORTED_RUNTIMES)
      .check(/\.(ts|js|mjs|cjs)$/.test(entry), "contract.entry", contract.entry, "a .ts or .js handler file")
      .check(existsSync(entry), "contract.entry", contract.entry, `an existing file (resolved to ${entry})`);
    for (const key of Object.keys(props.environment ?? {})) {
      v.check(!SECRET_NAME_RE.test(key) || REFERENCE_SUFFIX_RE.test(key), `environment.${key}`, key,
        "a variable that does not carry a secret: store it in Secrets Manager and pass its ARN (name ending in _ARN)");
      v.matches(`environment.${key}`, key, /^[A-Za-z][A-Za-z0-9_]*$/, "a name of letters, digits and '_', starting with a letter");
      v.check(!OWNED_ENV.has(key) && !Object.values(contract.settings).some((s) => s.env === key), `environment.${key}`, key,
        "a variable the runtime does not own: set runtime values through `settings` (typed, range-checked) or wiring (useTable, useCache, useDax)");
    }
    const service = props.settings?.serviceName ?? TerraformStack.of(this).node.id;
    const settings = resolveSettings(v, { ...RUNTIME_SETTINGS, ...contract.settings },
      { serviceName: service, metricsNamespace: `Cachefront/${service}`, ...props.settings } as Record<string, unknown>);
    const tableTimeoutMs = settings.values.tableTimeoutMs as number;
    // The L1 lives in the function's memory: a quarter of it at most leaves room for the runtime.
    const l1MaxBytes = settings.values.l1MaxBytes as number;
    v.check(!((settings.values.l1TtlMs as number) > 0) || !Number.isInteger(memorySize) || l1MaxBytes <= (memorySize * 1024 * 1024) / 4,
      "settings.l1MaxBytes", l1MaxBytes, `at most a quarter of the function's memory (${memorySize} MB → ${(memorySize * 1024 * 1024) / 4} bytes)`);
    // A table call that may outlast the function turns a hung table into a Lambda timeout (a 502
    // with no body) instead of the runtime's own 503 with Retry-After.
    v.check(!Number.isInteger(timeout) || tableTimeoutMs < timeout * 1000, "settings.tableTimeoutMs", tableTimeoutMs,
      `less than the function's timeout (${timeout} s = ${timeout * 1000} ms), so a hung table answers 503 before Lambda gives up`);
    v.throwIfAny();
    this.network = props.network;
    this.contract = contract;
    this.settings = settings.values;
    this.timeoutSeconds = timeout;

    this.bundle = bundleHandler({
      entry,
      target: "node22",
      externals: props.externalModules ?? ["@aws-sdk/*", "@smithy/*"],
      sourceMap: props.sourceMap ?? true,
    });
    const asset = new TerraformAsset(this, "code", {
      path: this.bundle.zipPath,
      type: AssetType.FILE,
      assetHash: this.bundle.sha256Hex,
    });

    // The log group is created by Terraform (not by Lambda on first write) so it has a retention.
    this.logGroup = new LogGroup(this, "logs", { name: `/aws/lambda/${name}`, retentionDays: props.logRetentionDays, profile });

    this.role = new Role(this, "role", {
      assumedBy: "lambda.amazonaws.com",
      description: `Execution role of ${this.node.path}`,
    });
    this.grantPrincipal = this.role;
    this.role.addToPrincipalPolicy("write-logs", [
      { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${this.logGroup.logGroupArn}:*`] },
    ]);
    // ENI management has no resource-level scoping in IAM; this is the statement of
    // AWSLambdaVPCAccessExecutionRole without its logs:* on "*".
    this.role.addToPrincipalPolicy("vpc-access", [
      {
        actions: [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSubnets",
          "ec2:DeleteNetworkInterface",
          "ec2:AssignPrivateIpAddresses",
          "ec2:UnassignPrivateIpAddresses",
        ],
        resources: ["*"],
      },
    ]);
    // X-Ray has no resource-level permissions.
    this.role.addToPrincipalPolicy("xray-tracing", [
      { actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] },
    ]);

    this.securityGroup = new SecurityGroup(this, "sg", {
      vpcId: props.network.vpcId,
      description: `Lambda ${name}: egress only to what it is wired to`,
    });
    this.connections = new Connections(this.securityGroup, undefined, "Lambda");

    if (props.sourceMap ?? true) this.env.NODE_OPTIONS = "--enable-source-maps";
    Object.assign(this.env, settings.environment);
    for (const [k, val] of Object.entries(props.environment ?? {})) this.env[k] = val;

    this.resource = new LambdaFunction(this, "function", {
      functionName: name,
      description: props.description ?? contract.description,
      runtime,
      architectures: [props.architecture ?? "arm64"],
      handler: `index.${props.handlerExport ?? "handler"}`,
      filename: asset.path,
      sourceCodeHash: this.bundle.sha256Base64,
      role: this.role.roleArn,
      memorySize,
      timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracingConfig: { mode: "Active" },
      loggingConfig: { logFormat: "Text", logGroup: this.logGroup.logGroupName },
      vpcConfig: {
        subnetIds: [...props.network.privateSubnetIds],
        securityGroupIds: [this.securityGroup.securityGroupId],
      },
      environment: {
        variables: Lazy.anyValue({ produce: () => ({ ...this.env }) }) as unknown as Record<string, string>,
      },
      // The role's policies must exist before the first invocation, and the log group before the
      // first log line (else Lambda creates one with no retention).
      dependsOn: [this.logGroup.resource, this.role.policyResource("vpc-access")!],
    });
    this.functionName = this.resource.functionName;
    this.functionArn = this.resource.arn;
    this.invokeArn = this.resource.invokeArn;
  }

  /**
   * Sets an environment variable. Only names, endpoints and ARNs belong here: the same
   * secret-name check as `props.environment` applies.
   */
  addEnvironment(key: string, value: string): this {
    PropsValidator.for(this)
      .check(!SECRET_NAME_RE.test(key) || REFERENCE_SUFFIX_RE.test(key), `environment.${key}`, key,
        "a variable that does not carry a secret: store it in Secrets Manager and pass its ARN (name ending in _ARN)")
      .check(this.env[key] === undefined || this.env[key] === value, `environment.${key}`, value,
        `the value already set (${this.env[key]}): two wirings disagree`)
      .throwIfAny();
    this.env[key] = value;
    return this;
  }

  /** Environment variables set so far (values may be Terraform tokens). */
  get environment(): Readonly<Record<string, string>> {
    return { ...this.env };
  }

  /**
   * Wires a DynamoDB table: read (or read-write) IAM on the table and its indexes, HTTPS egress
   * to the DynamoDB gateway endpoint, and its name in `TABLE_NAME` (or `envVar`). The table the
   * handler reads as `TABLE_NAME` must have the key layout of the contract's `table`: a mismatch
   * fails synthesis here instead of every request at run time.
   */
  useTable(table: ITable, opts: { write?: boolean; envVar?: string } = {}): this {
    const envVar = opts.envVar ?? CONNECTIONS.tableName.env;
    if (envVar === CONNECTIONS.tableName.env) {
      if (this.contract.table) checkTableLayout(this, table, this.contract);
      this.handlerTable = table;
    }
    if (opts.write) table.grantReadWriteData(this);
    else table.grantReadData(this);
    this.allowDynamoDb();
    return this.addEnvironment(envVar, table.tableName);
  }

  /**
   * Wires a cache (Redis/Valkey, Serverless, Memcached; owned or imported): the cache decides what
   * this function needs (its own ElastiCache user limited to the key prefix, `elasticache:Connect`
   * or a secret, the port) and this function writes the answer into its environment. A cache that
   * cannot do what the contract `needs` (Memcached has no sliding window) fails synthesis here, and
   * so does a cache outside the function's network (a security group cannot reference another VPC's).
   */
  useCache(cache: ICache): this {
    this.checkSameNetwork(`useCache(${cache.node.path})`, cache.network, "cache");
    const v = PropsValidator.for(this);
    for (const { operation, why } of neededCacheOperations(this.contract)) {
      v.check(cacheBackendSupports(cache.backend, operation), `useCache(${cache.node.path})`, `${cache.backend} cache`,
        `a cache that can do ${operation}, which contract ${this.contract.name} needs for ${why}: a Redis/Valkey cache (RedisCache, ServerlessCache); ` +
          `${cache.backend} cannot do it atomically`);
    }
    v.throwIfAny();
    const keyPrefix = String(this.settings.keyPrefix ?? this.settings.serviceName);
    return this.setCacheConnection(cache.connectFunction(this, { keyPrefix }));
  }

  /** Writes a cache connection into the environment, by the runtime's own variable names. */
  private setCacheConnection(c: CacheConnection): this {
    const C = CONNECTIONS;
    this.setConnection(C.cacheBackend, c.backend);
    if (c.backend === "memcached") {
      return this.setConnection(C.memcachedHost, c.host).setConnection(C.memcachedPort, c.port).setConnection(C.memcachedTls, c.tls);
    }
    this.setConnection(C.redisHost, c.host)
      .setConnection(C.redisPort, c.port)
      .setConnection(C.redisTls, c.tls)
      .setConnection(C.redisClusterMode, c.clusterMode);
    const a = c.auth;
    if (a.mode === "iam") {
      return this.setConnection(C.redisAuthMode, "iam").setConnection(C.redisUser, a.userId).setConnection(C.redisCacheName, a.cacheName)
        .setConnection(C.redisServerless, a.serverless);
    }
    if (a.mode === "secret") {
      this.setConnection(C.redisAuthMode, "secret").setConnection(C.redisAuthSecretArn, a.secretArn);
      // The user's name is in the secret too; here it names the user for the local twin and the console.
      return a.userName ? this.setConnection(C.redisUser, a.userName) : this;
    }
    return this.setConnection(C.redisAuthMode, "none");
  }

  /**
   * Wires a DAX cluster: ingress on its TLS port, `dax:` data-plane actions on it, its endpoint.
   * The cluster must be in the function's network, and the handler reads its table (`useTable`, in
   * any order) through the cluster, so synthesis fails unless the cluster fronts that table.
   */
  useDax(dax: IDaxCluster): this {
    this.checkSameNetwork(`useDax(${dax.node.path})`, dax.network, "DAX cluster");
    dax.allowFrom(this);
    dax.grantAccess(this);
    if (this.daxClusters.length === 0) this.node.addValidation({ validate: () => this.daxProblems() });
    if (!this.daxClusters.includes(dax)) this.daxClusters.push(dax);
    return this.setConnection(CONNECTIONS.daxEndpoint, dax.discoveryEndpoint);
  }

  /** HTTPS egress to DynamoDB through the VPC's gateway endpoint. */
  allowDynamoDb(): void {
    this.securityGroup.addEgressToPrefixList(this.network.dynamoDbPrefixListId, 443,
      "HTTPS to DynamoDB through the VPC gateway endpoint");
  }

  /**
   * Security groups of two VPCs cannot reference each other, and a cluster answers only inside its
   * own VPC: wiring across networks would plan cleanly and fail at apply.
   */
  private checkSameNetwork(field: string, other: INetwork, what: string): void {
    const mine = this.network;
    PropsValidator.for(this)
      .check(other === mine || other.vpcId === mine.vpcId, `${field}.network`, other.node.path,
        `the function's network (${mine.node.path}): the ${what} is in another VPC, which the function's security group ` +
          `cannot reference and its subnets cannot reach. Create the function and the ${what} in one network, or share ` +
          "one network between the stacks")
      .throwIfAny();
  }

  /** Wired DAX clusters that do not front the handler's table (a validation: useTable may come later). */
  private daxProblems(): string[] {
    const v = PropsValidator.for(this);
    const table = this.handlerTable;
    // A fronted table by its construct path when it is one of this app's, else by its ARN.
    const show = (arn: string) =>
      this.node.root.node.findAll().find((c) => (c as Partial<ITable>).tableArn === arn)?.node.path ?? (Token.isUnresolved(arn) ? "a table given by reference" : arn);
    for (const dax of this.daxClusters) {
      v.check(table !== undefined && dax.tableArns.includes(table.tableArn), `useDax(${dax.node.path}).tables`,
        table ? table.node.path : "no table",
        `a table the cluster fronts (${dax.tableArns.map(show).join(", ")}): the handler sends the requests for its table ` +
          `(useTable, ${CONNECTIONS.tableName.env}) through DAX, whose service role reaches only the tables it fronts. Wire the ` +
          "function to a table the cluster fronts, or add the table to the cluster's tables");
    }
    const e = v.error;
    return e ? [e.message] : [];
  }

  private setConnection(s: Setting, value: string | number | boolean): this {
    return this.addEnvironment(s.env, formatSetting(value));
  }
}

/** Fails synthesis when `table`'s key layout is not the one the handler's contract is written against. */
function checkTableLayout(fn: Construct, table: ITable, contract: FunctionContract): void {
  const want = contract.table!;
  const f = `useTable(${table.node.path})`;
  const key = (k?: { name: string; type: string }) => (k ? `${k.name} (${k.type})` : "none");
  const v = PropsValidator.for(fn);
  v.check(key(table.partitionKey) === key(want.partitionKey), `${f}.partitionKey`, key(table.partitionKey),
    `${key(want.partitionKey)}, the partition key handler ${contract.name} reads and writes`);
  v.check(key(table.sortKey) === key(want.sortKey), `${f}.sortKey`, key(table.sortKey),
    `${key(want.sortKey)}, the sort key handler ${contract.name} reads and writes`);
  if (want.timeToLiveAttribute) {
    v.check(table.timeToLiveAttribute === want.timeToLiveAttribute, `${f}.timeToLiveAttribute`, table.timeToLiveAttribute,
      `${JSON.stringify(want.timeToLiveAttribute)}, where handler ${contract.name} writes each item's expiry`);
  }
  for (const idx of want.globalSecondaryIndexes ?? []) {
    const have = table.globalSecondaryIndexes.find((g) => g.indexName === idx.indexName);
    v.check(!!have && key(have.partitionKey) === key(idx.partitionKey) && key(have.sortKey) === key(idx.sortKey),
      `${f}.globalSecondaryIndexes`, table.globalSecondaryIndexes.map((g) => g.indexName),
      `an index ${idx.indexName} on ${key(idx.partitionKey)} / ${key(idx.sortKey)}, which handler ${contract.name} queries`);
  }
  v.throwIfAny();
}
