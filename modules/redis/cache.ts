/**
 * The interface every cache construct is wired through (`fn.useCache(cache)`): the cache, not the
 * function, decides what a client needs (its own ElastiCache user, `elasticache:Connect`, a secret
 * and the Secrets Manager endpoint, or nothing but the port) and answers with the connection facts
 * the function writes into its environment:
 *
 *   const conn = cache.connectFunction(fn, { keyPrefix: "product-catalog" });
 *   // → { backend: "redis", host, port, tls: true, clusterMode, auth: { mode: "iam", userId, cacheName, serverless } }
 */
import type { IConstruct } from "constructs";
import type { CacheBackendKind } from "../../functions/lib/contract";
import type { IGrantable } from "../iam";
import type { INetwork } from "../network";
import type { IConnectable } from "../security-group";

/** A client a cache can be wired to: something with a role (IAM) and a security group, e.g. a `CacheAsideFunction`. */
export interface ICacheClient extends IGrantable, IConnectable, IConstruct {}

/** How a wired client authenticates, as its environment says (`REDIS_AUTH_MODE` and friends). */
export type CacheClientAuth =
  /** IAM: the runtime signs a short-lived token for `userId` on `cacheName` itself; no secret. */
  | { readonly mode: "iam"; readonly userId: string; readonly cacheName: string; readonly serverless: boolean }
  /** A secret: the shared AUTH token, or the client's own user as JSON `{username, password}` (rotated). */
  | { readonly mode: "secret"; readonly secretArn: string; readonly userName?: string }
  /** No AUTH (Memcached: the security group is the only gate). */
  | { readonly mode: "none" };

/** What a client needs to know to connect, returned by {@link ICache.connectFunction}. */
export interface CacheConnection {
  /** The runtime's cache backend (`CACHE_BACKEND`). */
  readonly backend: Extract<CacheBackendKind, "redis" | "memcached">;
  /** Endpoint address (a Terraform reference). */
  readonly host: string;
  /** Port. */
  readonly port: number;
  /** Connect with TLS. */
  readonly tls: boolean;
  /** Speak the Redis Cluster protocol (cluster mode, ElastiCache Serverless). */
  readonly clusterMode: boolean;
  /** How to authenticate. */
  readonly auth: CacheClientAuth;
}

/** Options of {@link ICache.connectFunction}. */
export interface CacheConnectOptions {
  /**
   * The client's key prefix (`CACHE_KEY_PREFIX`): its user may touch `<prefix>:{…` keys only.
   */
  readonly keyPrefix: string;
  /**
   * Name (and id) of the client's ElastiCache user: 1–40 lowercase letters, digits and single
   * hyphens, starting with a letter (IAM authentication needs name = id, lowercase).
   * @default derived from the cache's and the client's construct paths
   */
  readonly userName?: string;
}

/**
 * A cache a function can be wired to (`fn.useCache(cache)`), owned by this stack or not:
 * `RedisCache`, `ServerlessCache`, `MemcachedCache` and their `fromAttributes` imports.
 */
export interface ICache extends IConnectable, IConstruct {
  /** The runtime backend clients use: `redis` (Redis OSS, Valkey, Serverless) or `memcached`. */
  readonly backend: Extract<CacheBackendKind, "redis" | "memcached">;
  /** Address clients connect to (primary, configuration or serverless endpoint). */
  readonly endpointAddress: string;
  /** Port clients connect to. */
  readonly port: number;
  /** True when clients must speak the cluster protocol. */
  readonly clusterMode: boolean;
  /** The network the cache is in: only functions in the same VPC can reach it. */
  readonly network: INetwork;
  /** Lets `peer` reach the cache port (ingress here, egress there). */
  allowFrom(peer: IConnectable): void;
  /**
   * Wires `client`: network path, its own user (or the shared token), the IAM grants that user
   * needs, and returns the connection facts for its environment. Called by `fn.useCache(cache)`.
   */
  connectFunction(client: ICacheClient, options: CacheConnectOptions): CacheConnection;
}

/** ElastiCache user ids and names: a letter, then lowercase letters, digits and single hyphens, not ending in one; at most 40. */
export const CACHE_USER_ID_RE = /^[a-z](?:[a-z0-9]|-(?!-)){0,38}[a-z0-9]$|^[a-z]$/;
