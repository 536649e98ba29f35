/**
 * IAM authentication of ioredis connections to ElastiCache (see iam-auth.ts for the token):
 * every (re)connect authenticates with the current token, and live connections are re-authenticated
 * (AUTH <user> <new token>) whenever a new token is made, about every 12 minutes, far inside the
 * 12 hours after which ElastiCache drops an IAM connection that has not re-authenticated.
 *
 * Two paths keep the token fresh: each cache call checks it before running (cheap while the token
 * is fresh; the only path that runs in a Lambda, whose timers stop while it is frozen), and a timer
 * does the same for a process that sits idle (an ECS task, the local twin).
 */
import Redis, { Cluster } from "ioredis";
import { errorFields, log } from "../log";
import { ElastiCacheIamAuthOptions, ElastiCacheIamTokenProvider } from "./iam-auth";

/** IAM authentication for a Redis/Valkey client: `auth: { mode: "iam", userId, cacheName, region }`. */
export interface RedisIamAuth extends ElastiCacheIamAuthOptions {
  /** Selects IAM authentication (instead of a static AUTH token). */
  readonly mode: "iam";
  /**
   * How often an idle process checks whether a new token is due (and then re-authenticates).
   * @default 60000
   */
  readonly checkIntervalMs?: number;
}

type Client = Redis | Cluster;

/** After a failed re-authentication, how long before the next try (not on every call). */
const RETRY_AFTER_FAILURE_MS = 5_000;

/** Keeps one client's credentials current; see the file comment. */
export class RedisIamSession {
  private readonly tokens: ElastiCacheIamTokenProvider;
  private readonly timer: NodeJS.Timeout;
  /** The token the client's connections were last given. */
  private applied?: string;
  private pending?: Promise<void>;
  private retryAt = 0;

  constructor(
    private readonly client: Client,
    auth: RedisIamAuth,
  ) {
    this.tokens = new ElastiCacheIamTokenProvider(auth);
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), auth.checkIntervalMs ?? 60_000);
    // A cache must never keep a process alive just to re-authenticate.
    this.timer.unref();
  }

  /** The AUTH user name. */
  get userId(): string {
    return this.tokens.userId;
  }

  /**
   * Makes sure the next (re)connect sends a token that is not due, and re-authenticates live
   * connections when that token is new. Cheap while nothing is due. Rejects only when no token can
   * be had at all.
   */
  refresh(): Promise<void> {
    if (!this.tokens.due && (this.applied === this.tokens.current || Date.now() < this.retryAt)) return Promise.resolve();
    this.pending ??= this.apply().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Stops the timer (the client is being closed). */
  close(): void {
    clearInterval(this.timer);
  }

  private async apply(): Promise<void> {
    const token = await this.tokens.token();
    if (token === this.applied) return;
    // ioredis reads the password when it (re)connects; a cluster copies it into each node's options.
    const client = this.client;
    // In place: a cluster's connection pool holds this very redisOptions object.
    if (client instanceof Cluster) Object.assign((client.options.redisOptions ??= {}), { password: token });
    else client.options.password = token;
    const live = client instanceof Cluster ? client.nodes() : [client];
    for (const c of live) c.options.password = token;
    const results = await Promise.allSettled(live.filter((c) => c.status === "ready").map((c) => c.auth(this.userId, token)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      // The connection stays authenticated with its earlier token for now: retry on the next check.
      log("warn", "redis IAM re-authentication failed", { user: this.userId, ...errorFields(failed.reason) });
      this.retryAt = Date.now() + RETRY_AFTER_FAILURE_MS;
      return;
    }
    this.applied = token;
  }
}
