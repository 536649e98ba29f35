/**
 * ElastiCache IAM authentication tokens (Valkey ≥ 7.2, Redis OSS ≥ 7.0, with TLS):
 * `const tokens = new ElastiCacheIamTokenProvider({ userId: "app", cacheName: "orders", region: "eu-west-1" });`
 * `await tokens.token()` is the password for `AUTH app <token>`.
 *
 * What a token is (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html, section
 * "Connecting", and its sample IAMAuthTokenRequest in aws-samples/elasticache-iam-auth-demo-app):
 * a SigV4-presigned `GET http://<cache name>/?Action=connect&User=<user id>` (plus
 * `&ResourceType=ServerlessCache` for a serverless cache) for the service `elasticache` in the
 * cache's region, valid for 900 s, given as the URL without its `http://`. The same page's
 * limitations: a token is valid for 15 minutes; an IAM-authenticated connection is dropped after 12
 * hours unless it sends AUTH or HELLO with a new token; user name and user id must be identical.
 *
 * The signer, the SHA-256 and the default credential chain are the AWS SDK's (`@smithy/*`,
 * `@aws-sdk/credential-provider-node`), provided by the Lambda runtime. They are loaded on the first
 * token, so functions without IAM auth never load them.
 */
import type { SignatureV4 } from "@smithy/signature-v4";

/** How long a token is valid (ElastiCache's limit). */
export const IAM_TOKEN_LIFETIME_SECONDS = 900;

/** AWS credentials, as the SDK's credential providers resolve them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Resolves credentials (the SDK's credential providers have this shape). */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

/** Which cache and ElastiCache user a token is for. */
export interface ElastiCacheTokenTarget {
  /** The IAM-enabled ElastiCache user's id (equal to its user name). */
  readonly userId: string;
  /** Replication group id, or serverless cache name. */
  readonly cacheName: string;
  /** The cache's region. */
  readonly region: string;
  /** True for a serverless cache (signs `ResourceType=ServerlessCache`). @default false */
  readonly serverless?: boolean;
}

/** Options of {@link ElastiCacheIamTokenProvider}. */
export interface ElastiCacheIamAuthOptions extends ElastiCacheTokenTarget {
  /**
   * Credentials to sign with: fixed ones or a provider.
   * @default the SDK's default chain (`defaultProvider()` of `@aws-sdk/credential-provider-node`: in a Lambda, its environment variables)
   */
  readonly credentials?: AwsCredentials | AwsCredentialsProvider;
  /**
   * Clock in epoch ms (signing time and token age), injectable for tests.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Fraction of a token's 15-minute life after which a new one is made (0 < x < 1).
   * @default 0.8 (every 12 minutes)
   */
  readonly refreshAt?: number;
}

/** Loads the SDK's signer, so that a function without IAM auth never does. */
function loadSigner(target: ElastiCacheTokenTarget, credentials: AwsCredentials): SignatureV4 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SignatureV4: Signer } = require("@smithy/signature-v4") as typeof import("@smithy/signature-v4");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Hash } = require("@smithy/hash-node") as typeof import("@smithy/hash-node");
  return new Signer({ service: "elasticache", region: target.region, credentials, sha256: Hash.bind(null, "sha256") });
}

/** URI-escapes as SigV4's canonical query does (RFC 3986 unreserved characters stay). */
function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * One IAM authentication token for `target`, signed with `credentials` at `signingDate` (see the
 * file comment for its shape).
 */
export async function elastiCacheAuthToken(target: ElastiCacheTokenTarget, credentials: AwsCredentials, signingDate: Date): Promise<string> {
  for (const [name, value] of Object.entries({ userId: target.userId, cacheName: target.cacheName, region: target.region })) {
    if (!value) throw new Error(`ElastiCache IAM auth: ${name} is required`);
  }
  // ElastiCache stores cache names in lower case; the signed host must be that name.
  const host = target.cacheName.toLowerCase();
  const query: Record<string, string> = { Action: "connect", User: target.userId };
  if (target.serverless) query.ResourceType = "ServerlessCache";
  const signed = await loadSigner(target, credentials).presign(
    { method: "GET", protocol: "http:", hostname: host, path: "/", query, headers: { host } },
    { expiresIn: IAM_TOKEN_LIFETIME_SECONDS, signingDate },
  );
  const pairs = Object.entries(signed.query ?? {}).map(([k, v]) => `${escapeUri(k)}=${escapeUri(String(v))}`);
  return `${host}/?${pairs.join("&")}`;
}

/** Loads the SDK's default credential chain (once per provider). */
function defaultCredentials(): AwsCredentialsProvider {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { defaultProvider } = require("@aws-sdk/credential-provider-node") as typeof import("@aws-sdk/credential-provider-node");
  const provider = defaultProvider();
  return () => provider();
}

/**
 * IAM authentication tokens for one cache and user, cached: a new token is made once the current one
 * has lived `refreshAt` of its 15 minutes, so a connection made at any moment gets one with at
 * least (1 - refreshAt) × 15 minutes left.
 */
export class ElastiCacheIamTokenProvider {
  /** The ElastiCache user the tokens are for (the AUTH user name). */
  readonly userId: string;
  private readonly now: () => number;
  private readonly refreshAfterMs: number;
  private credentials?: AwsCredentialsProvider;
  private cached?: { readonly token: string; readonly issuedAt: number };
  private pending?: Promise<string>;

  constructor(private readonly options: ElastiCacheIamAuthOptions) {
    const refreshAt = options.refreshAt ?? 0.8;
    if (!(refreshAt > 0 && refreshAt < 1)) throw new Error(`ElastiCache IAM auth refreshAt ${refreshAt}: a fraction between 0 and 1`);
    this.userId = options.userId;
    this.now = options.now ?? Date.now;
    this.refreshAfterMs = refreshAt * IAM_TOKEN_LIFETIME_SECONDS * 1000;
    const c = options.credentials;
    if (c) this.credentials = typeof c === "function" ? c : async () => c;
  }

  /** True when there is no token yet, or the current one has reached its refresh point. */
  get due(): boolean {
    return !this.cached || this.now() - this.cached.issuedAt >= this.refreshAfterMs;
  }

  /** The last token made, if any, without waiting: what a connection opened now would send. */
  get current(): string | undefined {
    return this.cached?.token;
  }

  /**
   * The current token, or a new one once it is due. Concurrent callers share one signing. If making
   * a new one fails while the old one is still valid, the old one is returned (and the next call
   * tries again).
   */
  async token(): Promise<string> {
    if (!this.due) return this.cached!.token;
    this.pending ??= this.issue().finally(() => (this.pending = undefined));
    try {
      return await this.pending;
    } catch (err) {
      const c = this.cached;
      if (c && this.now() < c.issuedAt + IAM_TOKEN_LIFETIME_SECONDS * 1000) return c.token;
      throw err;
    }
  }

  private async issue(): Promise<string> {
    this.credentials ??= defaultCredentials();
    const issuedAt = this.now();
    const token = await elastiCacheAuthToken(this.options, await this.credentials(), new Date(issuedAt));
    this.cached = { token, issuedAt };
    return token;
  }
}
