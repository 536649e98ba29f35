/**
 * How clients authenticate to a Redis/Valkey cache, and the ElastiCache users that makes:
 *
 *   new RedisCache(this, "cache", { network, auth: CacheAuth.iam() });              // the prod default
 *   new RedisCache(this, "cache", { network, auth: CacheAuth.password({ rotationDays: 30 }) });
 *   new RedisCache(this, "cache", { network, auth: CacheAuth.token() });            // one shared AUTH token
 *
 * With IAM or passwords every wired function gets its own user, whose access string
 * (`redisAccessString`, from the runtime's contract) allows its own key prefix and the runtime's
 * commands only, in a user group that also holds the disabled `default` user ElastiCache requires.
 */
import { ElasticacheUser } from "@cdktf/provider-aws/lib/elasticache-user";
import { ElasticacheUserGroup } from "@cdktf/provider-aws/lib/elasticache-user-group";
import { ElasticacheUserGroupAssociation } from "@cdktf/provider-aws/lib/elasticache-user-group-association";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretRotation } from "@cdktf/provider-aws/lib/secretsmanager-secret-rotation";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Fn, Lazy } from "cdktf";
import { Construct } from "constructs";
import { DISABLED_DEFAULT_ACCESS_STRING, redisAccessString } from "../../functions/lib/contract";
import { physicalName, physicalNameOfPath } from "../core/naming";
import { byProfile, Profile } from "../core/profile";
import { PropsValidator } from "../core/validation";
import type { PolicyStatement } from "../iam";
import type { INetwork } from "../network";
import { CACHE_USER_ID_RE, CacheClientAuth, CacheConnectOptions, ICacheClient } from "./cache";
import { CacheUserRotator } from "./rotation";

/** How clients authenticate: IAM, their own rotated password, or the one shared AUTH token. */
export type CacheAuthMode = "iam" | "password" | "token";

/** Steps of the move from the shared AUTH token to per-function users (help/caching.md#migrating-from-the-auth-token). */
export type TokenMigrationStage =
  /** Users and user group attached, the AUTH token dropped (`auth_token_update_strategy = "DELETE"`); the group's `default` user takes the old token as its password, so clients still on it keep working. */
  | "attach"
  /** Functions switch to their own users; the token-holding `default` user is still there for clients not yet switched. */
  | "switch";

/** Options of {@link CacheAuth.password}. */
export interface PasswordAuthOptions {
  /**
   * Days between rotations of each user's password (1–365).
   * @default 30
   */
  readonly rotationDays?: number;
}

/** Options of {@link CacheAuth.token}. */
export interface TokenAuthOptions {
  /** Where a migration away from the token goes (`CacheAuth.iam()` or `.password()`), with `stage`. @default no migration */
  readonly migrateTo?: CacheAuth;
  /** How far the migration is. @default "attach" when `migrateTo` is given */
  readonly stage?: TokenMigrationStage;
}

/**
 * A typed auth mode: `CacheAuth.iam()`, `CacheAuth.password({ rotationDays })` or `CacheAuth.token()`.
 */
export class CacheAuth {
  /**
   * IAM authentication: each function's user has `authentication_mode { type = "iam" }`, its role
   * may `elasticache:Connect` to this cache as this user only, and the runtime signs a 15-minute
   * token itself. No secret, no Secrets Manager endpoint. Needs Valkey ≥ 7.2 or Redis OSS ≥ 7.0, with TLS.
   */
  static iam(): CacheAuth {
    return new CacheAuth("iam");
  }

  /**
   * A password per function user, in Secrets Manager, rotated every `rotationDays` by a rotation
   * function that uses ElastiCache's two passwords per user (the old one stays valid through the
   * rotation and until the next one), so no connection fails.
   */
  static password(options: PasswordAuthOptions = {}): CacheAuth {
    return new CacheAuth("password", options.rotationDays ?? 30);
  }

  /**
   * One AUTH token for every client, in Secrets Manager, never rotated (policy CF-SM-2 is
   * suppressed on it with the reason). Kept for existing caches and as the start of a migration:
   * `CacheAuth.token({ migrateTo: CacheAuth.iam(), stage: "attach" })`, then `"switch"`, then `CacheAuth.iam()`.
   */
  static token(options: TokenAuthOptions = {}): CacheAuth {
    return new CacheAuth("token", undefined, options.migrateTo ? { to: options.migrateTo, stage: options.stage ?? "attach" } : undefined);
  }

  private constructor(
    /** The mode. */
    public readonly mode: CacheAuthMode,
    /** Rotation period of password users, in days. */
    public readonly rotationDays?: number,
    /** A migration from the token in progress. */
    public readonly migration?: { readonly to: CacheAuth; readonly stage: TokenMigrationStage },
  ) {}

  /** True when the cache has a user group (IAM, passwords, or a token migration under way). */
  get usesUserGroup(): boolean {
    return this.mode !== "token" || this.migration !== undefined;
  }

  /** How a newly wired function authenticates: with its own user (`iam`, `password`) or the shared `token`. */
  get clientMode(): CacheAuthMode {
    return this.migration?.stage === "switch" ? this.migration.to.mode : this.mode;
  }

  /** A label for messages: `iam`, `password (rotated every 30 days)`, `token → iam (attach)`. */
  toString(): string {
    if (this.migration) return `token → ${this.migration.to.mode} (${this.migration.stage})`;
    return this.mode === "password" ? `password (rotated every ${this.rotationDays} days)` : this.mode;
  }
}

/** Engine versions from which ElastiCache accepts IAM authentication. */
const IAM_MIN_VERSION: Readonly<Record<string, number>> = { valkey: 7.2, redis: 7.0 };

/** True when `engine` at `version` accepts IAM authentication. */
export function supportsIamAuth(engine: string, version: string): boolean {
  const min = IAM_MIN_VERSION[engine];
  return min !== undefined && Number.parseFloat(version) >= min;
}

/** The default auth mode of a cache: IAM wherever the engine allows it, else rotated passwords. */
export function defaultCacheAuth(engine: string, version: string): CacheAuth {
  return supportsIamAuth(engine, version) ? CacheAuth.iam() : CacheAuth.password();
}

/**
 * Records in `v` what is wrong with `auth` for a cache running `engine` `version`, TLS on or off
 * (field `auth`, with the value and what is allowed).
 */
export function validateCacheAuth(v: PropsValidator, auth: CacheAuth, cache: { engine: string; version: string; tls: boolean; serverless?: boolean }): void {
  const modes = [auth.mode, auth.migration?.to.mode].filter((m): m is CacheAuthMode => !!m);
  if (modes.includes("iam")) {
    v.check(supportsIamAuth(cache.engine, cache.version), "auth", `${auth} on ${cache.engine} ${cache.version}`,
      `an engine that accepts IAM authentication (Valkey >= 7.2 or Redis OSS >= 7.0); for ${cache.engine} ${cache.version} use CacheAuth.password()`);
    v.check(cache.tls, "auth", `${auth} without TLS`, "IAM authentication over TLS only (ElastiCache refuses IAM users without in-transit encryption)");
  }
  if (cache.serverless) {
    v.check(auth.mode !== "token", "auth", String(auth), "CacheAuth.iam() or CacheAuth.password(): ElastiCache Serverless has no AUTH token, only user groups");
  }
  if (auth.migration) {
    v.check(auth.migration.to.mode !== "token", "auth.migrateTo", String(auth.migration.to), "CacheAuth.iam() or CacheAuth.password()");
  }
  if (auth.rotationDays !== undefined) v.intRange("auth.rotationDays", auth.rotationDays, 1, 365);
}

/**
 * Lets `client` read `secretArn` (and decrypt it with `kmsKeyArn` through Secrets Manager only),
 * through the network's Secrets Manager interface endpoint.
 */
export function grantSecretRead(client: ICacheClient, secretArn: string, policyName: string, network: INetwork, kmsKeyArn?: string): void {
  const statements: PolicyStatement[] = [{ actions: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], resources: [secretArn] }];
  if (kmsKeyArn) {
    statements.push({
      actions: ["kms:Decrypt"],
      resources: [kmsKeyArn],
      conditions: { StringEquals: { "kms:ViaService": `secretsmanager.${network.region}.amazonaws.com` } },
    });
  }
  client.grantPrincipal.addToPrincipalPolicy(policyName, statements);
  // Always through the endpoint, NAT or not: a function's SG only has egress to wired groups.
  network.addInterfaceEndpoint("secretsmanager").connections.allowDefaultPortFrom(client);
}

/**
 * How `client` of a Redis/Valkey cache authenticates: as its own user (made in `users`), or, while
 * the cache's clients use the shared token, with read access to the token's secret. Returns what
 * the client's environment needs.
 */
export function redisClientAuth(cache: {
  readonly owner: Construct; readonly auth: CacheAuth; readonly users?: CacheUsers; readonly tokenSecretArn?: string;
  readonly network: INetwork; readonly kmsKeyArn?: string;
}, client: ICacheClient, options: CacheConnectOptions): CacheClientAuth {
  // During a migration the users exist from its first step, before the clients switch to them.
  const userAuth = cache.users?.addClient(client, options);
  if (cache.auth.clientMode !== "token") return userAuth!;
  grantSecretRead(client, cache.tokenSecretArn!, `read-auth-${physicalName(cache.owner, 100)}`, cache.network, cache.kmsKeyArn);
  return { mode: "secret", secretArn: cache.tokenSecretArn! };
}

/** What {@link CacheUsers} needs to know of its cache. */
export interface CacheUsersProps {
  /** Engine of the users and the group (`redis` or `valkey`). */
  readonly engine: string;
  /** The cache's auth mode (and migration, if any). */
  readonly auth: CacheAuth;
  /**
   * The cache, as the clients' IAM `elasticache:Connect` names it.
   * @default derived from each user's ARN (same partition, region and account): an imported cache
   */
  readonly cacheArn?: string;
  /** Id of the cache the tokens are signed for: replication group id, or serverless cache name. */
  readonly cacheName: string;
  /** The resource type in the cache's ARN: `replicationgroup` or `serverlesscache`. */
  readonly cacheArnType: "replicationgroup" | "serverlesscache";
  /** True for ElastiCache Serverless (IAM tokens name it as such). */
  readonly serverless: boolean;
  /**
   * An existing user group (a cache another stack owns): users are associated with it.
   * @default a group is created here, with a disabled `default` user
   */
  readonly userGroupId?: string;
  /**
   * The token clients hold today: during a migration the group's `default` user takes it as its password.
   * @default none (the `default` user is disabled)
   */
  readonly legacyToken?: string;
  /** Where the cache is: password users' rotation function runs there. */
  readonly network: INetwork;
  /** The cache's endpoint, for the rotation function's test connection. */
  readonly endpoint: { readonly host: string; readonly port: number; readonly tls: boolean; readonly clusterMode: boolean };
  /** Lets the rotation function reach the cache port. */
  readonly allowFrom: (peer: ICacheClient) => void;
  /** Customer key of the password secrets. @default AWS-managed */
  readonly kmsKeyArn?: string;
  /** Deployment profile: a deleted password secret is recoverable for 30 days in prod, none in dev. */
  readonly profile: Profile;
}

/**
 * The user group of one cache and a user per wired function. A cache builds it when its auth mode
 * has users; for a cache owned elsewhere (`userGroupId` given) each user is associated with the
 * existing group instead (`aws_elasticache_user_group_association`).
 */
export class CacheUsers extends Construct {
  /** The group, when this construct owns it. */
  public readonly userGroup?: ElasticacheUserGroup;
  /** The mandatory `default` user of an owned group: disabled, or holding the old token during a migration. */
  public readonly defaultUser?: ElasticacheUser;
  /** @attribute The group's id (for `user_group_ids`). */
  public readonly userGroupId: string;
  /** Users by the path of the client they were made for. */
  public readonly users = new Map<string, ElasticacheUser>();
  /** The rotation function of password users, once one exists. */
  public rotator?: CacheUserRotator;
  private readonly memberIds: string[] = [];

  constructor(scope: Construct, id: string, private readonly props: CacheUsersProps) {
    super(scope, id);
    const engine = props.engine;
    if (props.userGroupId !== undefined) {
      this.userGroupId = props.userGroupId;
      return;
    }
    const groupId = physicalName(this, 40);
    // ElastiCache requires a user named "default" in every group. Disabled, it lets no one in
    // without a user of their own; during a token migration it holds the old token, so clients
    // still sending `AUTH <token>` authenticate as it with the access they had.
    const legacy = props.auth.migration !== undefined && props.legacyToken !== undefined;
    this.defaultUser = new ElasticacheUser(this, "default-user", {
      userId: `${physicalName(this, 32)}-dflt`,
      userName: "default",
      engine,
      accessString: legacy ? "on ~* +@all" : DISABLED_DEFAULT_ACCESS_STRING,
      authenticationMode: legacy ? { type: "password", passwords: [props.legacyToken!] } : { type: "no-password-required" },
    });
    this.memberIds.push(this.defaultUser.userId);
    this.userGroup = new ElasticacheUserGroup(this, "group", {
      userGroupId: groupId,
      engine,
      userIds: Lazy.listValue({ produce: () => [...this.memberIds] }),
    });
    this.userGroupId = this.userGroup.userGroupId;
  }

  /**
   * The user of `client`: access to `options.keyPrefix` only, IAM or a rotated password, in the
   * group; returns what the client's environment needs to log in as it.
   */
  addClient(client: ICacheClient, options: CacheConnectOptions): CacheClientAuth {
    // A migration creates the users of its target mode at its first step; clients use them once the stage is switch.
    const mode = (this.props.auth.migration?.to ?? this.props.auth).mode;
    // Named by the client's path in its stack: two clients may share an id (a warmer's and an invalidator's `function`).
    const id = `user-${client.node.path.split("/").slice(1).join("-")}`;
    const existing = this.node.tryFindChild(id);
    // The client's name first: with the stack's it is what a reader of the console needs.
    const userId = options.userName ?? physicalNameOfPath(`${this.node.path}/${id}`, 40, client.node.id);
    PropsValidator.for(this)
      .matches("connectFunction.userName", userId, CACHE_USER_ID_RE,
        "1-40 lowercase letters, digits and single hyphens, starting with a letter (an IAM user's name is its id)")
      .check(!existing, `connectFunction(${client.node.path})`, client.node.path, "one connection per client and cache")
      .throwIfAny();
    const accessString = redisAccessString(options.keyPrefix);
    const engine = this.props.engine;
    let user: ElasticacheUser;
    let auth: CacheClientAuth;
    const connect = (userArn: string): PolicyStatement => ({
      actions: ["elasticache:Connect"],
      resources: [this.props.cacheArn ?? Fn.replace(userArn, `user:${userId}`, `${this.props.cacheArnType}:${this.props.cacheName}`), userArn],
    });
    if (mode === "iam") {
      user = new ElasticacheUser(this, id, { userId, userName: userId, engine, accessString, authenticationMode: { type: "iam" } });
      client.grantPrincipal.addToPrincipalPolicy(`connect-${physicalName(user, 100)}`, [connect(user.arn)]);
      auth = { mode: "iam", userId, cacheName: this.props.cacheName, serverless: this.props.serverless };
    } else {
      const secret = this.passwordSecret(id, userId);
      user = new ElasticacheUser(this, id, {
        userId,
        userName: userId,
        engine,
        accessString,
        authenticationMode: { type: "password", passwords: [Fn.lookup(Fn.jsondecode(secret.version.secretString), "password", "")] },
        // The rotation function changes the passwords from then on (ModifyUser); Terraform set the first one.
        lifecycle: { ignoreChanges: ["authentication_mode"] },
      });
      this.rotatorFor(secret.secret, user);
      grantSecretRead(client, secret.secret.arn, `read-${physicalName(user, 100)}`, this.props.network, this.props.kmsKeyArn);
      auth = { mode: "secret", secretArn: secret.secret.arn, userName: userId };
    }
    this.users.set(client.node.path, user);
    if (this.userGroup) this.memberIds.push(user.userId);
    else new ElasticacheUserGroupAssociation(this, `${id}-membership`, { userGroupId: this.userGroupId, userId: user.userId });
    return auth;
  }

  private passwordSecret(id: string, userId: string): { secret: SecretsmanagerSecret; version: SecretsmanagerSecretVersion } {
    const secret = new SecretsmanagerSecret(this, `${id}-secret`, {
      namePrefix: `${userId}-`,
      description: `Password of ElastiCache user ${userId} (${this.node.path}), rotated by ${this.node.path}/rotator`,
      kmsKeyId: this.props.kmsKeyArn,
      recoveryWindowInDays: byProfile(this.props.profile, { dev: 0, prod: 30 }),
    });
    const version = new SecretsmanagerSecretVersion(this, `${id}-secret-value`, {
      secretId: secret.id,
      // The shape the runtime reads ({username, password}) plus the user id the rotation function
      // modifies. uuid() is crypto-random and evaluated at apply time (64 hex characters); the
      // value is generated once, then owned by the rotation function.
      secretString: Fn.jsonencode({ username: userId, userId, password: Fn.replace(Fn.join("", [Fn.uuid(), Fn.uuid()]), "-", "") }),
      lifecycle: { ignoreChanges: ["secret_string"] },
    });
    return { secret, version };
  }

  private rotatorFor(secret: SecretsmanagerSecret, user: ElasticacheUser): void {
    this.rotator ??= new CacheUserRotator(this, "rotator", {
      network: this.props.network,
      endpoint: this.props.endpoint,
      allowFrom: this.props.allowFrom,
      kmsKeyArn: this.props.kmsKeyArn,
    });
    this.rotator.rotates(secret, user);
    new SecretsmanagerSecretRotation(this, `${secret.node.id}-rotation`, {
      secretId: secret.id,
      rotationLambdaArn: this.rotator.functionArn,
      rotationRules: { automaticallyAfterDays: (this.props.auth.migration?.to ?? this.props.auth).rotationDays ?? 30 },
      // The first password is Terraform's; the first rotation comes on schedule, not at creation
      // (which would race the user being created).
      rotateImmediately: false,
      dependsOn: [user],
    });
  }
}
