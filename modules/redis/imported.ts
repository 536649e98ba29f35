/**
 * A Redis/Valkey replication group another stack or team owns, by its attributes
 * (`RedisCache.fromAttributes`): wiring a function creates its user, grants and security-group rule
 * in this stack, and associates the user with the owner's user group.
 */
import { Construct } from "constructs";
import { profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import type { INetwork } from "../network";
import { Connections, IConnectable, SecurityGroup } from "../security-group";
import { CacheAuth, CacheUsers, redisClientAuth, validateCacheAuth } from "./auth";
import { CacheConnection, CacheConnectOptions, ICache, ICacheClient } from "./cache";
import { CacheEngine } from "./engine";

/** Attributes of a Redis/Valkey replication group another stack or team owns ({@link RedisCache.fromAttributes}). */
export interface RedisCacheAttributes {
  /** The VPC the cache is in. */
  readonly network: INetwork;
  /** Primary (or configuration) endpoint address. */
  readonly endpointAddress: string;
  /** Port. @default 6379 */
  readonly port?: number;
  /** The cache's security group: wiring adds ingress rules to it from this stack. */
  readonly securityGroupId: string;
  /** True in cluster mode. */
  readonly clusterMode: boolean;
  /** The replication group's id (IAM tokens are signed for it; `elasticache:Connect` names it). */
  readonly replicationGroupId: string;
  /**
   * The user group on the replication group: each wired function's user is created in this stack
   * and associated with it (`aws_elasticache_user_group_association`). Required unless `auth` is a token.
   */
  readonly userGroupId?: string;
  /** How its clients authenticate. `CacheAuth.token()` needs `authSecretArn`. */
  readonly auth: CacheAuth;
  /** The AUTH token's secret (token auth only). */
  readonly authSecretArn?: string;
  /** Engine and version (users are made for the engine; IAM needs Valkey >= 7.2 / Redis OSS >= 7.0). @default CacheEngine.default() */
  readonly engine?: CacheEngine;
  /** In-transit encryption is on (IAM needs it). @default true */
  readonly transitEncryption?: boolean;
  /** Customer key of the secrets, if any. @default AWS-managed */
  readonly kmsKeyArn?: string;
}

/** A Redis/Valkey cache owned elsewhere: wiring a function to it changes only this stack. */
export class ImportedRedisCache extends Construct implements ICache {
  public readonly backend = "redis" as const;
  public readonly endpointAddress: string;
  public readonly port: number;
  public readonly clusterMode: boolean;
  public readonly network: INetwork;
  public readonly connections: Connections;
  private readonly users?: CacheUsers;

  constructor(scope: Construct, id: string, private readonly attrs: RedisCacheAttributes) {
    super(scope, id);
    const engine = attrs.engine ?? CacheEngine.default();
    const v = PropsValidator.for(this);
    validateCacheAuth(v, attrs.auth, { engine: engine.name, version: engine.version, tls: attrs.transitEncryption ?? true });
    v.check(!attrs.auth.usesUserGroup || !!attrs.userGroupId, "userGroupId", attrs.userGroupId, `the id of the user group on ${attrs.replicationGroupId} (auth ${attrs.auth} gives each function a user in it)`);
    v.check(attrs.auth.clientMode !== "token" || !!attrs.authSecretArn, "authSecretArn", attrs.authSecretArn, "the ARN of the AUTH token's secret (auth token)");
    v.throwIfAny();
    this.endpointAddress = attrs.endpointAddress;
    this.port = attrs.port ?? 6379;
    this.clusterMode = attrs.clusterMode;
    this.network = attrs.network;
    this.connections = new Connections(SecurityGroup.fromId(this, "sg", attrs.securityGroupId), this.port, engine.label);
    if (attrs.auth.usesUserGroup) {
      this.users = new CacheUsers(this, "users", {
        engine: engine.name,
        auth: attrs.auth,
        cacheName: attrs.replicationGroupId,
        cacheArnType: "replicationgroup",
        serverless: false,
        userGroupId: attrs.userGroupId,
        network: attrs.network,
        endpoint: { host: this.endpointAddress, port: this.port, tls: attrs.transitEncryption ?? true, clusterMode: this.clusterMode },
        allowFrom: (peer) => this.allowFrom(peer),
        kmsKeyArn: attrs.kmsKeyArn,
        profile: profileOf(this),
      });
    }
  }

  allowFrom(peer: IConnectable): void {
    this.connections.allowDefaultPortFrom(peer);
  }

  connectFunction(client: ICacheClient, options: CacheConnectOptions): CacheConnection {
    this.allowFrom(client);
    const a = this.attrs;
    const auth = redisClientAuth({ owner: this, auth: a.auth, users: this.users, tokenSecretArn: a.authSecretArn, network: this.network, kmsKeyArn: a.kmsKeyArn },
      client, options);
    return { backend: "redis", host: this.endpointAddress, port: this.port, tls: a.transitEncryption ?? true, clusterMode: this.clusterMode, auth };
  }
}
