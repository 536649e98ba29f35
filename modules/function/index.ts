/**
 * A Lambda function that bundles a handler from `functions/` and gets its network paths,
 * permissions and configuration only by being wired to other constructs:
 *
 *   const fn = new CacheAsideFunction(this, "fn", { network, entry: "functions/products/handler.ts" });
 *   fn.useTable(table, { write: true }); fn.useCache(cache); fn.useDax(dax);
 */
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { AssetType, Lazy, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { existsSync } from "fs";
import * as path from "path";
import { IGrantable, IPrincipal, Role } from "../iam";
import { LogGroup } from "../logs";
import { Network } from "../network";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { packageRoot } from "../core/project-root";
import { PropsValidator } from "../core/validation";
import { Connections, IConnectable, SecurityGroup } from "../security-group";
import { bundleHandler, Bundle } from "./bundle";

/**
 * Node.js runtimes this module set supports: those in AWS standard support that AWS provider
 * 5.100 accepts (AWS deprecated nodejs20.x in April 2026).
 */
export type NodeRuntime = "nodejs22.x";
/** Every {@link NodeRuntime}, for validation and iteration. */
export const SUPPORTED_RUNTIMES: readonly NodeRuntime[] = ["nodejs22.x"];

/** A DynamoDB table a function can be wired to. */
export interface ITableBinding {
  /** @attribute The table's name. */
  readonly tableName: string;
  /** Lets `grantee` read items and query the table and its indexes. */
  grantReadData(grantee: IGrantable): void;
  /** Lets `grantee` read and write items (no table management). */
  grantReadWriteData(grantee: IGrantable): void;
}

/** A Redis/Valkey cache a function can be wired to. */
export interface ICacheBinding extends IConnectable {
  /** Address clients connect to (primary endpoint, or configuration endpoint in cluster mode). */
  readonly endpointAddress: string;
  /** Port clients connect to (TLS). */
  readonly port: number;
  /** ARN of the secret holding the AUTH token. */
  readonly authSecretArn: string;
  /** True in cluster mode (clients must use the cluster protocol). */
  readonly clusterMode: boolean;
  /** Lets `peer` reach the cache port. */
  allowFrom(peer: IConnectable): void;
  /** Lets `grantee` read the AUTH token secret. */
  grantAuthSecret(grantee: IGrantable): void;
}

/** A DAX cluster a function can be wired to. */
export interface IDaxBinding extends IConnectable {
  /** `daxs://…:9111` discovery endpoint (daxs: the cluster only accepts TLS). */
  readonly discoveryEndpoint: string;
  /** Lets `peer` reach the cluster's TLS port. */
  allowFrom(peer: IConnectable): void;
  /** Lets `grantee` call the DAX data-plane actions on this cluster. */
  grantAccess(grantee: IGrantable): void;
}

/** Props of {@link CacheAsideFunction}. */
export interface CacheAsideFunctionProps {
  /** The VPC the function runs in, in all its private subnets. */
  readonly network: Network;
  /**
   * Handler entry file: absolute, or relative to this package's root
   * (e.g. `functions/products/handler.ts`). Bundled by esbuild at synth time.
   * Relative paths resolve against the root of `@cachefront/cdktf-dynamodb-cache` (see
   * `packageRoot()`), not against your app: `functions/products/handler.ts` and
   * `functions/sessions/handler.ts` are the handlers the package ships (as TypeScript, bundled
   * from `node_modules`). Give your own handler as an absolute path, e.g.
   * `path.join(__dirname, "handler.ts")`.
   */
  readonly entry: string;
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
   * Extra environment variables: names and endpoints only. Names that look like secrets
   * (password, secret, token, api key) are refused; pass a secret's ARN instead.
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

/**
 * A VPC-attached Lambda function with its own security group, log group, least-privilege
 * role and X-Ray tracing, whose code is bundled from `functions/`.
 */
export class CacheAsideFunction extends Construct implements IGrantable, IConnectable {
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
  public readonly network: Network;
  private readonly env: Record<string, string> = {};

  constructor(scope: Construct, id: string, props: CacheAsideFunctionProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const name = props.functionName ?? physicalName(this, 64);
    const memorySize = props.memorySize ?? byProfile(profile, { dev: 256, prod: 512 });
    const timeout = props.timeoutSeconds ?? 10;
    const runtime = props.runtime ?? "nodejs22.x";
    const entry = path.isAbsolute(props.entry) ? props.entry : path.join(packageRoot(), props.entry);

    const v = PropsValidator.for(this)
      .matches("functionName", name, /^[A-Za-z0-9_-]{1,64}$/, "1-64 characters of letters, digits, '-' and '_'")
      .intRange("memorySize", memorySize, 128, 10240)
      .intRange("timeoutSeconds", timeout, 1, 900)
      .intRange("reservedConcurrency", props.reservedConcurrency, 0, 100000)
      .oneOf("runtime", runtime, SUPPORTED_RUNTIMES)
      .check(/\.(ts|js|mjs|cjs)$/.test(entry), "entry", props.entry, "a .ts or .js handler file")
      .check(existsSync(entry), "entry", props.entry, `an existing file (resolved to ${entry})`);
    for (const key of Object.keys(props.environment ?? {})) {
      v.check(!SECRET_NAME_RE.test(key) || REFERENCE_SUFFIX_RE.test(key), `environment.${key}`, key,
        "a variable that does not carry a secret: store it in Secrets Manager and pass its ARN (name ending in _ARN)");
      v.matches(`environment.${key}`, key, /^[A-Za-z][A-Za-z0-9_]*$/, "a name of letters, digits and '_', starting with a letter");
    }
    v.throwIfAny();
    this.network = props.network;

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
    for (const [k, val] of Object.entries(props.environment ?? {})) this.env[k] = val;

    this.resource = new LambdaFunction(this, "function", {
      functionName: name,
      description: props.description ?? `cache-aside handler ${this.node.path}`,
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
        subnetIds: props.network.privateSubnetIds,
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
   * to the DynamoDB gateway endpoint, and its name in `envVar`.
   */
  useTable(table: ITableBinding, opts: { write?: boolean; envVar?: string } = {}): this {
    if (opts.write) table.grantReadWriteData(this);
    else table.grantReadData(this);
    this.allowDynamoDb();
    return this.addEnvironment(opts.envVar ?? "TABLE_NAME", table.tableName);
  }

  /**
   * Wires a Redis/Valkey cache: ingress on its port from this function only, read access to
   * its AUTH secret through a Secrets Manager interface endpoint, and the endpoint in
   * environment variables. The token itself never becomes an environment variable.
   */
  useCache(cache: ICacheBinding): this {
    cache.allowFrom(this);
    cache.grantAuthSecret(this);
    // Always through the endpoint, NAT or not: the function's SG only has egress to wired
    // groups (never 0.0.0.0/0), so a NAT route alone would not reach Secrets Manager.
    this.network.addInterfaceEndpoint("secretsmanager").connections.allowDefaultPortFrom(this);
    return this.addEnvironment("REDIS_HOST", cache.endpointAddress)
      .addEnvironment("REDIS_PORT", String(cache.port))
      .addEnvironment("REDIS_TLS", "true")
      .addEnvironment("REDIS_CLUSTER_MODE", String(cache.clusterMode))
      .addEnvironment("REDIS_AUTH_SECRET_ARN", cache.authSecretArn);
  }

  /** Wires a DAX cluster: ingress on its TLS port, `dax:` data-plane actions on it, its endpoint. */
  useDax(dax: IDaxBinding): this {
    dax.allowFrom(this);
    dax.grantAccess(this);
    return this.addEnvironment("DAX_ENDPOINT", dax.discoveryEndpoint);
  }

  /** HTTPS egress to DynamoDB through the VPC's gateway endpoint. */
  allowDynamoDb(): void {
    this.securityGroup.addEgressToPrefixList(this.network.dynamoDbPrefixListId, 443,
      "HTTPS to DynamoDB through the VPC gateway endpoint");
  }
}
