/**
 * Session store: chat sessions (META + TURN# + SUMMARY# items under PK SESSION#id) read
 * through DAX, with Redis for the assembled context, rate limiting and session locks.
 */
import { Construct } from "constructs";
import {
  CacheApi, CacheAsideFunction, CacheObservability, CacheTable, DaxCluster, ICache, SESSIONS, SESSIONS_TABLE, StreamInvalidator, WebSocketApi,
} from "../modules";
import { CacheStack, CacheStackProps } from "./base";

/**
 * The session store stack: chat sessions in DynamoDB (the session contract's layout: `PK` = `SESSION#<id>`, `SK` =
 * `META` / `TURN#…` / `SUMMARY#…`, TTL `expiresAt`, GSI `by-customer`) read through DAX, Redis/Valkey for the assembled
 * context, rate limits and session locks, behind API Gateway and `functions/sessions`; the table's stream invalidates the
 * context whoever writes (TTL deletions too); a WebSocket API pushes each turn to the session's live
 * connections. Same outputs as the product catalog, plus `websocket_url`.
 */
export class SessionStoreStack extends CacheStack {
  /** The sessions table. */
  public readonly table: CacheTable;
  /** The DAX cluster in front of the sessions table. */
  public readonly dax: DaxCluster;
  /** The Redis/Valkey cache (context, rate limits, locks). */
  public readonly cache: ICache;
  /** The session function (`functions/sessions/handler.ts`). */
  public readonly fn: CacheAsideFunction<typeof SESSIONS>;
  /** Invalidates a session's context from the table's stream: any writer, and TTL deletions. */
  public readonly invalidator: StreamInvalidator;
  /** The REST API: every route of the session contract (appends need the API key). */
  public readonly api: CacheApi;
  /** The WebSocket API: follow a session, append to it, receive its turns as they are written. */
  public readonly realtime: WebSocketApi;
  /** Dashboard, alarm topic and (in prod) alarms. */
  public readonly observability: CacheObservability;

  constructor(scope: Construct, id: string, props: CacheStackProps) {
    super(scope, id, props);
    const { cache, sessions } = this.config;
    this.table = new CacheTable(this, "sessions", SESSIONS_TABLE);
    this.dax = this.daxCluster([this.table]);
    this.cache = this.serviceCache();
    this.fn = this.serviceFunction(SESSIONS, {
      ttlSeconds: cache?.sessionContextTtlSeconds,
      contextTurns: sessions?.contextTurns,
      rateLimitPerWindow: sessions?.rateLimitPerWindow,
      rateLimitWindowSeconds: sessions?.rateLimitWindowSeconds,
    });
    this.fn.useTable(this.table, { write: true }).useDax(this.dax).useCache(this.cache);
    this.invalidator = this.streamInvalidator(this.table, this.fn, this.cache);
    this.api = this.serviceApi(this.fn);
    this.realtime = this.websocketApi(this.fn, this.api);
    this.observability = this.observeAndExport(this);
  }
}
