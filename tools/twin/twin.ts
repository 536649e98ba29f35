/**
 * The local twin of one synthesized stack: its tables in dynalite, its cache in a local
 * redis-server (or the memory backend), its bundled Lambda functions in child processes and
 * its REST API on http://127.0.0.1:<port>/<stage>, with the gates API Gateway applies.
 *   const twin = new Twin(options);  await twin.start();  …  await twin.stop();
 * `stop()` may be called at any time, also while `start()` is still running.
 */
import { randomBytes } from "crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "fs";
import { createServer, RequestListener, Server } from "http";
import { tmpdir } from "os";
import * as path from "path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CONNECTIONS } from "../../functions/lib/contract";
import { Authorizers } from "./authorizers";
import { LocalCloudFrontApi } from "./cloudfront-api";
import { Edge } from "./edge";
import { EdgeDef, readEdge } from "./edge-model";
import { DynamoHandle, startDynamo } from "./dynamo";
import { extractBundle, FunctionPool } from "./functions";
import { Gateway, servedApiKeys } from "./gateway";
import { issuerConfigOf, issuerFile, JWKS_PATH, LocalIssuer } from "./issuer";
import { FAKE_CREDENTIALS, functionEnvironment, LocalEndpoints, localOutputs, shown, TWIN_ACCOUNT } from "./local";
import { command, connectRedisUrl, findRedisServer, LocalRedis, startRedisServer } from "./redis";
import { MAX_SEED, SAMPLE_CUSTOMERS, sampleCustomer, seed, seededIds, stackKind } from "./seed";
import { listStacks, loadStackJson, readStack, StackModel, stackDir } from "./stack";
import { StreamCapture, TableStream } from "./stream";
import { readStreamMappings, StreamDelivery, StreamMappingDef } from "./stream-mapping";
import { staleness, synthesize, withOutDirLock } from "./synth";
import { ModelCompileError } from "./schema";
import { LambdaApi } from "./lambda-api";
import { SOCKET_PATH_PREFIX, SocketGateway } from "./socket";
import { readSocketApi } from "./socket-model";

export const DEFAULT_PORT = 3210;
export const DEFAULT_STACK = "product-catalog-dev";
/** Lifetime of the sample tokens in the outputs file. */
const SAMPLE_TOKEN_TTL_SECONDS = 24 * 3600;

export interface TwinOptions {
  /** The package root (holds package.json, dist/, cdktf.out/). */
  readonly root: string;
  readonly stack: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host: string;
  /** Folder of the synthesized output (cdktf.json "output"). */
  readonly outDir: string;
  readonly outputsFile: string;
  readonly seed: number;
  readonly redisUrl?: string;
  readonly throttle: boolean;
  /** Synthesize when the output is missing or stale. */
  readonly synth: boolean;
  /** Most processes per function; default: reserved concurrency, at most 4 (1 with the memory backend). */
  readonly concurrency?: number;
  /** No access log and no function logs. */
  readonly quiet: boolean;
  /** Also the functions' metric (EMF) lines. */
  readonly verbose: boolean;
  /** Test only: every read misses the cache. */
  readonly breakCache: boolean;
  /** Seconds between two sweeps of expired items (DynamoDB's TTL deletions). */
  readonly ttlSweepSeconds: number;
  /** Table streams and their event source mappings; off (test only) means no write reaches an invalidator. */
  readonly stream: boolean;
  /** Port of the edge (the stack's CloudFront distribution, when it has one); 0 picks a free port. @default port + 1, or 0 with port 0 */
  readonly edgePort?: number;
  readonly print: (line: string) => void;
}

/** A failure the twin reports as one line. */
export class TwinError extends Error {}

class Stopped extends Error {}

export class Twin {
  private server?: Server;
  private dynamo?: DynamoHandle;
  private redis?: LocalRedis;
  private readonly pools = new Map<string, FunctionPool>();
  private codeDir?: string;
  private sweeper?: NodeJS.Timeout;
  private stopping?: Promise<void>;
  private gateway?: Gateway;
  private sockets?: SocketGateway;
  private lambdaApi?: LambdaApi;
  private issuer?: LocalIssuer;
  private streamReader?: DynamoDBClient;
  private deliveries: StreamDelivery[] = [];
  private edge?: Edge;
  private edgeServer?: Server;
  private cloudFrontApi?: LocalCloudFrontApi;
  /** `http://127.0.0.1:<port>` of the edge, once listening (the stack has a distribution). */
  edgeUrl = "";
  /** `http://127.0.0.1:<port>` once listening. */
  baseUrl = "";
  model?: StackModel;
  outputs: Record<string, unknown> = {};

  constructor(private readonly o: TwinOptions) {}

  private check(): void {
    if (this.stopping) throw new Stopped("stopped");
  }

  async start(): Promise<void> {
    const t0 = performance.now();
    const { print } = this.o;
    if (!Number.isInteger(this.o.seed) || this.o.seed < 0 || this.o.seed > MAX_SEED) throw new TwinError(`--seed ${this.o.seed}: 0 to ${MAX_SEED}`);
    if (this.o.breakCache && this.o.redisUrl) throw new TwinError("--break-cache flushes the cache before every request; it refuses to do that to --redis-url");

    // Bind first: a port in use is the most common failure and should cost nothing.
    await this.listen();
    this.check();

    const { model, note } = await withOutDirLock(this.o.outDir, () => {
      let why: string | undefined;
      if (this.o.synth) {
        why = staleness(this.o.root, this.o.outDir);
        if (why) synthesize(this.o.root, this.o.outDir);
      }
      const stacks = listStacks(this.o.outDir);
      if (stacks.length === 0) throw new TwinError(`no synthesized stacks in ${shown(this.o.outDir)}: run npm run synth (or start without --no-synth)`);
      if (!stacks.includes(this.o.stack)) throw new TwinError(`unknown stack "${this.o.stack}"; synthesized stacks: ${stacks.join(", ")}`);
      const dir = stackDir(this.o.outDir, this.o.stack);
      const m = readStack(this.o.stack, dir, loadStackJson(this.o.outDir, this.o.stack));
      // Unzip while holding the lock: a concurrent synth replaces the asset folders.
      this.codeDir = mkdtempSync(path.join(tmpdir(), `cachefront-twin-${this.o.stack}-`));
      const entries = new Map(m.functions.map((f) => [f.logicalId, extractBundle(f, path.join(this.codeDir!, f.logicalId))]));
      return { model: { m, entries }, note: why ? `synthesized: ${why}` : "synthesized output is current" };
    });
    this.check();
    const m = model.m;
    this.model = m;
    print(`twin: ${m.name} from ${shown(path.join(m.dir, "cdk.tf.json"))} (${note})`);
    for (const w of m.warnings) print(`warning: ${w}`);
    const edgeDef = readEdge(m.json);
    if (edgeDef) {
      await this.listenEdge();
      this.check();
    }

    // Tables and cache, in parallel.
    const redisBin = this.o.redisUrl ? undefined : findRedisServer();
    // allSettled: both are registered for stop() before a failure of either is thrown.
    const [dynamoResult, redisResult] = await Promise.allSettled([
      startDynamo(m.tables).then((d) => (this.dynamo = d)),
      (this.o.redisUrl ? connectRedisUrl(this.o.redisUrl) : redisBin ? startRedisServer(redisBin) : Promise.resolve(undefined)).then((r) => (this.redis = r)),
    ]);
    if (dynamoResult.status === "rejected") throw new TwinError(`dynalite did not start: ${(dynamoResult.reason as Error).message}`);
    if (redisResult.status === "rejected") throw new TwinError((redisResult.reason as Error).message);
    const dynamo = dynamoResult.value;
    const redis = redisResult.value;
    this.check();
    for (const t of m.tables) {
      const keys = [t.hashKey, t.rangeKey].filter(Boolean).join(", ");
      const gsis = t.globalSecondaryIndexes.map((g) => ` GSI ${g.name} (${[g.hashKey, g.rangeKey].filter(Boolean).join(", ")})`).join(",");
      print(`table: ${t.name} (${keys})${gsis}${t.ttlAttribute ? `, TTL ${t.ttlAttribute}` : ""} in dynalite (in memory), DynamoDB's limits enforced`);
    }
    if (this.o.redisUrl && redis) print(`cache: Redis at ${redis.host}:${redis.port} (--redis-url)`);
    else if (redis) print(`cache: redis-server pid ${redis.pid} on ${redis.host}:${redis.port} (stopped with the twin)`);
    else print(`cache: no redis-server on PATH; the functions use the in-memory cache backend (${CONNECTIONS.cacheBackend.env}=memory), one cache per function process`);
    if (m.hasDax) print("dax: no local equivalent; the functions read DynamoDB directly (the DAX endpoint is dropped)");
    // The stack's ElastiCache users, with the same access strings: a function reaches only its own
    // keys here too. Not on --redis-url: the twin does not change a Redis it does not own.
    const redisUsers = new Set<string>();
    if (redis && !this.o.redisUrl) {
      for (const u of m.cacheUsers.filter((x) => x.userName !== "default" && x.authType !== "no-password-required")) {
        const reply = await command(redis.host, redis.port, `ACL SETUSER ${u.userName} reset nopass ${u.accessString}`);
        if (reply !== "+OK") throw new TwinError(`redis ACL SETUSER ${u.userName}: ${reply}`);
        redisUsers.add(u.userId);
      }
      if (redisUsers.size > 0) print(`cache users: ${[...redisUsers].join(", ")} (ACL from the stack's access strings; any password stands in for IAM)`);
    }
    print(`dynamodb: ${dynamo.endpoint} serves the tables above: write to them with the AWS CLI or an SDK (any credentials), e.g. ` +
      `aws dynamodb scan --endpoint-url ${dynamo.endpoint} --region ${m.region} --table-name ${m.tables[0]?.name ?? "<table>"}`);

    // Table streams: on before anything writes, so every change is a record.
    const { mappings, warnings: streamWarnings } = readStreamMappings(m);
    for (const w of streamWarnings) print(`warning: ${w}`);
    const streams = new Map<string, TableStream>();
    const queues: Record<string, string> = {};
    for (const def of mappings) {
      if (def.onFailure) queues[def.onFailure.logicalId ?? def.onFailure.name] = path.join(path.dirname(this.o.outputsFile), `${def.onFailure.name}.jsonl`);
    }
    if (this.o.stream && mappings.length > 0) {
      this.streamReader = new DynamoDBClient({
        endpoint: dynamo.upstream, region: m.region, maxAttempts: 2,
        credentials: { accessKeyId: FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
      });
      const capture = new StreamCapture(this.streamReader);
      for (const def of mappings) if (!streams.has(def.table.name)) streams.set(def.table.name, capture.stream(def.table, def.viewType, m.region));
      dynamo.observeWrites(capture);
    } else if (mappings.length > 0) {
      print("stream: off (--no-stream, test only): changes to the tables reach no stream invalidator; cached entries stay until their TTL");
    }

    // API keys: the twin generates them, as API Gateway does when the stack sets no value.
    const apiKeys: LocalEndpoints["apiKeys"] = {};
    for (const k of m.api.apiKeys) {
      apiKeys[k.logicalId] = { id: randomBytes(5).toString("hex"), value: k.value ?? randomBytes(30).toString("base64url").replace(/[-_]/g, "x").slice(0, 40) };
    }
    // The twin issues the tokens the stack's authorizer verifies: a key pair of its own, served as a JWKS here.
    const jwksUrl = `${this.baseUrl}${JWKS_PATH}`;
    const issuerConfig = issuerConfigOf(m, jwksUrl);
    if (issuerConfig) {
      this.issuer = await LocalIssuer.create(issuerConfig);
      this.check();
      this.issuer.save(issuerFile(this.o.outDir, this.o.stack));
      print(`auth: the twin issues ${issuerConfig.kind === "cognito" ? "Cognito user pool" : "JWT"} tokens for ${issuerConfig.issuer} ` +
        `(aud ${issuerConfig.audience}, ${issuerConfig.alg}), keys at ${jwksUrl}; a token: npm run token -- --sub <customer>${this.o.stack === DEFAULT_STACK ? "" : ` --stack ${this.o.stack}`}`);
    }
    if (m.api.methods.some((x) => x.authorization === "AWS_IAM")) {
      print("auth: AWS_IAM methods take SigV4 signed with the twin's credentials (AWS_ACCESS_KEY_ID AKIAIOSFODNN7EXAMPLE, see help/authorization.md); caller IAM policies are not evaluated");
    }
    const { api: socketApi, warnings: socketWarnings } = readSocketApi(m);
    for (const w of socketWarnings) print(`warning: ${w}`);
    const local: LocalEndpoints = {
      baseUrl: this.baseUrl,
      dynamoDbEndpoint: dynamo.endpoint,
      redis: redis ? { host: redis.host, port: redis.port, tls: redis.tls } : undefined,
      redisUsers,
      apiKeys,
      jwksUrl: issuerConfig?.kind === "jwt" ? jwksUrl : undefined,
      queues,
      websocketUrl: socketApi ? `${this.baseUrl.replace(/^http/, "ws")}${SOCKET_PATH_PREFIX}/${socketApi.stageName}` : undefined,
      edge: edgeDef ? { url: this.edgeUrl, distributionId: `ETWIN${randomBytes(5).toString("hex").toUpperCase()}` } : undefined,
    };

    // Functions: one process warm per function, more on demand.
    const nodePath = path.join(this.o.root, "node_modules");
    for (const fn of m.functions) {
      const { env, notes } = functionEnvironment(m, fn, local, { taskRoot: path.dirname(model.entries.get(fn.logicalId)!.file), nodePath });
      let max = this.o.concurrency ?? Math.min(4, fn.reservedConcurrency && fn.reservedConcurrency > 0 ? fn.reservedConcurrency : 4);
      if (!redis && max > 1) max = 1; // memory caches are per process: one process keeps HIT after MISS
      const pool = new FunctionPool(fn, {
        entry: model.entries.get(fn.logicalId)!,
        env,
        maxWorkers: max,
        freshEachInvoke: this.o.breakCache && !redis,
        log: (line) => {
          if (this.o.quiet) return;
          if (!this.o.verbose && line.startsWith('{"_aws"')) return;
          print(`  [${fn.name}] ${line}`);
        },
      });
      this.pools.set(fn.logicalId, pool);
      try {
        await pool.start();
      } catch (err) {
        throw new TwinError(`function ${fn.name} failed to load its handler: ${err instanceof Error ? err.message : String(err)}`);
      }
      this.check();
      print(`function: ${fn.name} (${fn.runtime}, ${fn.handler}, ${fn.timeoutSeconds} s timeout, up to ${max} process${max > 1 ? "es" : ""})`);
      for (const n of notes) print(`  env: ${n}`);
    }

    for (const def of mappings) {
      const stream = streams.get(def.table.name);
      const pool = this.pools.get(def.functionLogicalId)!;
      if (!stream) continue;
      const destinationFile = def.onFailure ? queues[def.onFailure.logicalId ?? def.onFailure.name] : undefined;
      const delivery = new StreamDelivery(def, stream, (event, id) => pool.invoke(event, id), {
        functionArn: `arn:aws:lambda:${m.region}:${TWIN_ACCOUNT}:function:${pool.fn.name}`,
        destinationFile,
        note: (l) => !this.o.quiet && print(l),
      });
      delivery.start();
      this.deliveries.push(delivery);
      print(`stream: ${def.table.name} (${def.viewType}) → ${pool.fn.name}: ${mappingText(def)}; ` +
        (destinationFile ? `batches given up on → ${shown(destinationFile)}` : "no on-failure destination"));
      if (!redis) print("  warning: without redis-server each function process has its own memory cache; the invalidator's deletes reach only its own");
    }

    const served = servedApiKeys(m.api, apiKeys);
    const firstKey = Object.values(apiKeys)[0];
    for (const k of m.api.apiKeys) {
      if (!k.enabled) print(`api key: ${k.logicalId} is disabled; the gateway refuses it (403), as API Gateway does`);
      else if (!k.usagePlan) print(`api key: ${k.logicalId} is in no usage plan of stage ${m.api.stageName}; the gateway refuses it (403), as API Gateway does`);
    }
    try {
      this.gateway = new Gateway({
        api: m.api,
        pools: this.pools,
        apiKeys: served.keys,
        usagePlans: served.plans,
        throttle: this.o.throttle,
        region: m.region,
        authorizers: new Authorizers({ pools: this.pools, issuer: this.issuer, region: m.region, apiId: "twin", note: (l) => print(`  ${l}`) }),
        accessLog: this.o.quiet ? undefined : (l) => print(l),
        note: (l) => print(`  ${l}`),
        beforeInvoke: this.o.breakCache && redis ? async () => void (await command(redis.host, redis.port, "FLUSHALL")) : undefined,
        requiredHeaders: edgeDef?.requiredAtOrigin,
      });
    } catch (err) {
      if (err instanceof ModelCompileError) throw new TwinError(err.message);
      throw err;
    }
    if (this.o.breakCache) print("break-cache: TEST ONLY: the cache is emptied before every request, so every read misses");
    this.lambdaApi = new LambdaApi(this.pools, m.region, (l) => print(`  ${l}`));
    if (socketApi) {
      this.sockets = new SocketGateway({
        api: socketApi,
        pools: this.pools,
        region: m.region,
        throttle: this.o.throttle,
        accessLog: this.o.quiet ? undefined : (l) => print(l),
        note: (l) => print(`  ${l}`),
      });
    }
    if (edgeDef && local.edge) this.startEdge(edgeDef, local.edge.distributionId, m.api.stageName);

    // DynamoDB deletes expired items within days; dynalite never does, so the twin sweeps.
    if (m.tables.some((t) => t.ttlAttribute)) {
      this.sweeper = setInterval(() => {
        dynamo.sweepExpired().then((n) => n > 0 && !this.o.quiet && print(`ttl: deleted ${n} expired item(s)`), () => undefined);
      }, this.o.ttlSweepSeconds * 1000);
      this.sweeper.unref();
    }

    const kind = stackKind(m.name);
    if (this.o.seed > 0) {
      if (!kind) print(`seed: no sample data for stack ${m.name} (product-catalog-* and session-store-* only); skipped`);
      else {
        await seed(kind, this.o.seed, m.api, this.pools, firstKey);
        this.check();
        const ids = seededIds(this.o.seed);
        print(`seed: ${this.o.seed} ${kind === "product-catalog" ? "product(s)" : "session(s) with 2 turns each"}: ${ids.length > 3 ? `${ids[0]} … ${ids[ids.length - 1]}` : ids.join(", ")}`);
      }
    }

    const { outputs, notes } = localOutputs(m, local);
    if (this.issuer) {
      // Twin only: tokens of two customers, valid while this twin runs, for curl and the smoke suite.
      outputs.sample_token = await this.issuer.token(SAMPLE_CUSTOMERS[0], { ttlSeconds: SAMPLE_TOKEN_TTL_SECONDS });
      outputs.sample_token_other = await this.issuer.token(SAMPLE_CUSTOMERS[1], { ttlSeconds: SAMPLE_TOKEN_TTL_SECONDS });
    }
    // Twin only: Lambda's Invoke API for the stack's functions (npm run warm invokes the warm function there).
    if (outputs.warm_function_name) outputs.lambda_endpoint = this.baseUrl;
    this.outputs = outputs;
    this.writeOutputs(outputs);
    for (const n of notes) print(`warning: ${n}`);

    const stageUrl = `${this.baseUrl}/${m.api.stageName}`;
    print(`routes (stage ${m.api.stageName}):`);
    for (const r of this.gateway.routes()) {
      const extras = [r.apiKeyRequired ? "x-api-key" : "", ...Object.values(r.models).map((x) => `body: ${x.name}`)].filter(Boolean).join(", ");
      print(`  ${r.httpMethod.padEnd(7)} ${stageUrl}${r.resourcePath}${extras ? `   (${extras})` : ""}`);
    }
    if (this.sockets && local.websocketUrl) {
      print(`websocket (stage ${socketApi!.stageName}): ${local.websocketUrl}?sessionId=<id>${this.issuer ? "&token=<jwt>" : ""}`);
      for (const r of this.sockets.routes()) {
        print(`  ${r.routeKey.padEnd(12)} ${r.authorizationType === "NONE" ? "" : `(${r.authorizationType === "CUSTOM" ? "authorizer: token query parameter" : r.authorizationType}) `}${r.reply ? "(answers the sender)" : ""}`.trimEnd());
      }
      print(`  @connections: ${this.baseUrl}${SOCKET_PATH_PREFIX}/${socketApi!.stageName}/@connections/{id} (SigV4, the functions post here)`);
    }
    const t = m.api.throttle.defaults;
    print(this.o.throttle ? `throttling: ${t.rate} req/s, burst ${t.burst}, per method (--no-throttle turns it off)` : "throttling: off (--no-throttle)");
    if (firstKey) print(`api key: ${firstKey.value} (send it as x-api-key; it is also in the outputs file)`);
    print(`outputs: ${shown(this.o.outputsFile)}`);
    const stackFlag = this.o.stack === DEFAULT_STACK ? "" : ` --stack ${this.o.stack}`;
    const bearer = this.issuer ? ` -H "authorization: Bearer $TOKEN"` : "";
    const keyHeader = firstKey ? ` -H 'x-api-key: ${firstKey.value}'` : "";
    if (kind === "product-catalog") {
      const id = this.o.seed > 0 ? "sample-1" : "p1";
      print("try:");
      if (this.o.seed === 0) {
        if (this.issuer) print(`  TOKEN=$(npm run -s token -- --sub editor-1${stackFlag})`);
        print(`  curl -s -X PUT ${stageUrl}/products/${id}${bearer}${keyHeader} -H 'content-type: application/json' -d '{"name":"Pen","price":2.5}'`);
      }
      print(`  curl -si ${stageUrl}/products/${id}   # twice: X-Cache MISS, then HIT`);
    } else if (kind === "session-store") {
      const id = this.o.seed > 0 ? "sample-1" : "s1";
      print("try:");
      if (this.issuer) print(`  TOKEN=$(npm run -s token -- --sub ${this.o.seed > 0 ? sampleCustomer(1) : SAMPLE_CUSTOMERS[0]}${stackFlag})`);
      if (this.o.seed === 0) print(`  curl -s -X POST ${stageUrl}/sessions/${id}/turns${bearer}${keyHeader} -H 'content-type: application/json' -d '{"role":"user","content":"hi"}'`);
      print(`  curl -s ${stageUrl}/sessions/${id}${bearer}`);
      if (local.websocketUrl) print(`  npx wscat -c "${local.websocketUrl}?sessionId=${id}${this.issuer ? "&token=$TOKEN" : ""}"   # then append a turn: it arrives on the socket`);
    }
    if (this.edge) print(`  curl -si ${this.edgeUrl}/products/${this.o.seed > 0 ? "sample-1" : "p1"}   # through the edge, twice: X-Cache Miss, then Hit from cloudfront with Age`);
    print(`started in ${((performance.now() - t0) / 1000).toFixed(1)} s; Ctrl-C stops it`);
    this.gateway.ready = true;
    if (this.sockets) this.sockets.ready = true;
    print(`ready: ${this.baseUrl} (${m.name})`);
  }

  /** Binds the edge's port (before the functions start: their environment names the edge). */
  private async listenEdge(): Promise<void> {
    const port = this.o.edgePort ?? (this.o.port === 0 ? 0 : this.o.port + 1);
    const { server, url } = await bindServer((req, res) => {
      if (!this.edge || !this.gateway?.ready) {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "The local twin is starting" }));
        return;
      }
      this.edge.handle(req, res);
    }, this.o.host, port, { flag: "--edge-port", what: " for the edge" });
    this.edgeServer = server;
    this.edgeUrl = url;
  }

  /** The edge in front of the gateway, and CloudFront's invalidation API on the twin's own port. */
  private startEdge(def: EdgeDef, distributionId: string, stage: string): void {
    const { print } = this.o;
    this.edge = new Edge({
      def, origin: this.baseUrl, distributionId, host: new URL(this.edgeUrl).host,
      accessLog: this.o.quiet ? undefined : (l) => print(l),
    });
    this.cloudFrontApi = new LocalCloudFrontApi(new Set([distributionId]), (inv) => {
      const n = this.edge?.invalidate(inv.paths) ?? 0;
      if (!this.o.quiet) print(`edge: invalidation ${inv.id} of ${inv.paths.length} path(s) dropped ${n} cached cop${n === 1 ? "y" : "ies"}`);
    });
    const cached = def.behaviors.filter((b) => b.cachePolicy.maxTtl > 0).map((b) => b.pathPattern);
    print(`edge: ${this.edgeUrl} → ${this.baseUrl}${def.originPath} (CloudFront ${distributionId}; cached: ${cached.join(", ") || "nothing"}; ` +
      `stage ${stage} is the origin path)`);
    const locked = Object.keys(def.requiredAtOrigin);
    if (locked.length > 0) print(`edge: the API answers only requests carrying ${locked.join(", ")} (its web ACL's rule): call it through the edge`);
    for (const n of def.notes) print(`  edge: ${n}`);
  }

  private async listen(): Promise<void> {
    const { server, url } = await bindServer((req, res) => {
      if (this.cloudFrontApi?.handles(req)) {
        this.cloudFrontApi.handle(req, res);
        return;
      }
      if (req.url === JWKS_PATH && this.issuer) {
        res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
        res.end(JSON.stringify(this.issuer.jwks()));
        return;
      }
      if (this.lambdaApi?.handle(req, res) || this.sockets?.handleHttp(req, res)) return;
      if (!this.gateway) {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "The local twin is starting" }));
        return;
      }
      this.gateway.handle(req, res);
    }, this.o.host, this.o.port, { flag: "--port", what: "" });
    server.on("upgrade", (req, socket, head) => {
      if (this.sockets?.handleUpgrade(req, socket, head)) return;
      socket.on("error", () => undefined);
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    });
    this.server = server;
    this.baseUrl = url;
  }

  /** Writes this stack's outputs into the outputs file, keeping other stacks' entries. */
  private writeOutputs(outputs: Record<string, unknown>): void {
    const file = this.o.outputsFile;
    let all: Record<string, unknown> = {};
    if (existsSync(file)) {
      try {
        const prior = JSON.parse(readFileSync(file, "utf8")) as unknown;
        if (prior && typeof prior === "object" && !Array.isArray(prior)) all = prior as Record<string, unknown>;
      } catch {
        /* not ours or broken: replaced */
      }
    }
    all[this.o.stack] = outputs;
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all, null, 2) + "\n", { mode: 0o600 }); // holds the API key
    renameSync(tmp, file);
  }

  /** Stops everything the twin started; safe to call more than once and during start(). */
  stop(): Promise<void> {
    this.stopping ??= this.release();
    return this.stopping;
  }

  /**
   * Stops whatever is running now. start() may still acquire something after stop() began (a
   * redis-server that was starting); calling this again after start() has thrown releases it.
   */
  async release(): Promise<void> {
    if (this.gateway) this.gateway.ready = false;
    const sockets = this.sockets;
    this.sockets = undefined;
    await sockets?.close();
    this.issuer?.forget(issuerFile(this.o.outDir, this.o.stack));
    if (this.sweeper) clearInterval(this.sweeper);
    const server = this.server;
    this.server = undefined;
    const edgeServer = this.edgeServer;
    this.edgeServer = undefined;
    edgeServer?.closeAllConnections();
    edgeServer?.close();
    const deliveries = this.deliveries.splice(0);
    await Promise.allSettled(deliveries.map((d) => d.stop()));
    this.dynamo?.observeWrites(undefined);
    this.streamReader?.destroy();
    this.streamReader = undefined;
    const pools = [...this.pools.values()];
    this.pools.clear();
    const redis = this.redis;
    this.redis = undefined;
    const dynamo = this.dynamo;
    this.dynamo = undefined;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    server?.closeAllConnections();
    await Promise.allSettled(pools.map((p) => p.close()));
    await Promise.allSettled([redis?.stop(), dynamo?.stop(), closed]);
    if (this.codeDir) rmSync(this.codeDir, { recursive: true, force: true });
  }
}

/** A mapping's settings, as the start lines show them. */
function mappingText(d: StreamMappingDef): string {
  const forever = (n: number, unit: string) => (n < 0 ? `until the record expires` : `${n}${unit}`);
  return [
    `batch ${d.batchSize}`,
    `window ${d.batchingWindowSeconds} s`,
    d.reportBatchItemFailures ? "ReportBatchItemFailures" : "whole-batch failures",
    d.bisectOnError ? "bisect on error" : "no bisect",
    `retries ${forever(d.maximumRetryAttempts, "")}`,
    `record age ${forever(d.maximumRecordAgeSeconds, " s")}`,
    `${d.parallelizationFactor} batch(es) per shard`,
    d.enabled ? "" : "DISABLED",
  ].filter(Boolean).join(", ");
}

/** A server for `handler` listening on `host:port` (0: any free port), and its base URL; a TwinError saying why not. */
function bindServer(handler: RequestListener, host: string, port: number, o: { flag: string; what: string }): Promise<{ server: Server; url: string }> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.keepAliveTimeout = 5_000;
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") reject(new TwinError(`port ${port} on ${host} is already in use (another twin?); choose another with ${o.flag}`));
      else if (err.code === "EACCES") reject(new TwinError(`no permission to listen on ${host}:${port}${o.what}; choose a port above 1024 with ${o.flag}`));
      else reject(new TwinError(`cannot listen on ${host}:${port}${o.what}: ${err.message}`));
    });
    server.listen(port, host, () => {
      const addr = server.address();
      const bound = typeof addr === "object" && addr ? addr.port : port;
      resolve({ server, url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}` });
    });
  });
}

/** True for the error start() throws when stop() interrupted it. */
export function isStopped(err: unknown): boolean {
  return err instanceof Stopped;
}
