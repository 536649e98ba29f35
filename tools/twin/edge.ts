/**
 * The stack's CloudFront distribution in front of the twin's API, on a port of its own (CloudFront
 * has its own host name; the stage is the origin path, so `GET <edge>/products/p1` reaches
 * `<api>/v1/products/p1`). It does what CloudFront does with the synthesized behaviours:
 *
 * - the first behaviour whose path pattern matches; a method it does not allow is 403;
 * - GET/HEAD under a cache policy with a max TTL above 0 are looked up by the policy's key (the
 *   path, the query strings and headers it names); a fresh copy answers `X-Cache: Hit from
 *   cloudfront` with `Age`; a copy past its TTL but within `stale-while-revalidate` answers too,
 *   while one refresh runs; concurrent misses of one key make one origin request;
 * - what the origin answers is kept for `s-maxage`, else `max-age`, else the default TTL, clamped
 *   to the policy's min and max; `private`, `no-store` and `no-cache` are never kept (min TTL 0);
 *   error statuses for the distribution's error caching TTL;
 * - only what the policies forward reaches the origin (headers, query strings; never cookies),
 *   plus the distribution's custom origin headers (the origin-verify secret);
 * - invalidations (from the twin's CloudFront API) drop the matching copies at once.
 */
import { randomBytes } from "crypto";
import { request as httpRequest, IncomingMessage, ServerResponse } from "http";
import type { BehaviorDef, EdgeDef } from "./edge-model";

/** One kept answer. */
interface Entry {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly storedAt: number;
  readonly ttlMs: number;
  readonly swrMs: number;
  /** The path it was requested at (invalidations match it). */
  readonly path: string;
  readonly hasQuery: boolean;
}

interface OriginAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export interface EdgeOptions {
  readonly def: EdgeDef;
  /** Base URL of the twin's API (`http://127.0.0.1:3210`); the origin path is appended. */
  readonly origin: string;
  readonly distributionId: string;
  /** The edge's own host (`127.0.0.1:3211`), for `Via`. */
  readonly host: string;
  readonly now?: () => number;
  readonly accessLog?: (line: string) => void;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "content-length"]);
/** Cacheable statuses besides the error ones (CloudFront's list). */
const CACHEABLE_OK = new Set([200, 203, 300, 301, 410]);

/** `*` any characters (slashes included), `?` one: CloudFront's path pattern syntax. */
export function pathMatches(pattern: string, path: string): boolean {
  if (pattern === "*") return true;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
  return re.test(path);
}

/** Directives of a Cache-Control header, lower case; `true` for those without a value. */
export function cacheDirectives(value: string | undefined): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const part of (value ?? "").split(",")) {
    const [k, v] = part.trim().split("=");
    if (k) out[k.toLowerCase()] = v === undefined ? true : v.replace(/^"|"$/g, "");
  }
  return out;
}

/** How long (ms) the edge keeps an answer, and for how long after that it may still serve it while refreshing. */
export function keepFor(b: BehaviorDef, a: { status: number; headers: Record<string, string> }, errorTtl: Readonly<Record<number, number>>): { ttlMs: number; swrMs: number } {
  const p = b.cachePolicy;
  const cc = cacheDirectives(a.headers["cache-control"]);
  const seconds = (v: string | true | undefined) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined);
  if (a.status >= 400) return { ttlMs: (errorTtl[a.status] ?? 0) * 1000, swrMs: 0 };
  if (!CACHEABLE_OK.has(a.status)) return { ttlMs: 0, swrMs: 0 };
  if (p.minTtl === 0 && (cc["no-store"] || cc["private"] || cc["no-cache"])) return { ttlMs: 0, swrMs: 0 };
  const declared = seconds(cc["s-maxage"]) ?? seconds(cc["max-age"]) ?? p.defaultTtl;
  const ttl = Math.min(p.maxTtl, Math.max(p.minTtl, declared));
  return { ttlMs: ttl * 1000, swrMs: ttl > 0 ? (seconds(cc["stale-while-revalidate"]) ?? 0) * 1000 : 0 };
}

function pick(query: string, which: "none" | "all" | readonly string[]): string[] {
  if (which === "none" || !query) return [];
  const parts = query.split("&").filter(Boolean);
  if (which === "all") return parts;
  return parts.filter((p) => which.includes(decodeURIComponent(p.split("=")[0])));
}

/** The distribution, served locally. */
export class Edge {
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<OriginAnswer>>();
  private readonly refreshing = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly o: EdgeOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Copies kept now. */
  get size(): number {
    return this.cache.size;
  }

  /** Drops the copies `paths` name (`/a/b` exactly, without a query string; `/a/*` every path below). Returns how many. */
  invalidate(paths: readonly string[]): number {
    let n = 0;
    for (const [key, e] of this.cache) {
      const hit = paths.some((p) => (p.endsWith("*") ? e.path.startsWith(p.slice(0, -1)) : e.path === p && !e.hasQuery));
      if (hit && this.cache.delete(key)) n++;
    }
    return n;
  }

  /** Node's request handler. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => undefined);
    req.on("end", () => {
      this.answer(req, Buffer.concat(chunks)).then(
        ({ status, headers, body, cache }) => {
          const head = req.method === "HEAD";
          res.writeHead(status, { ...headers, "content-length": String(body.length) });
          res.end(head ? undefined : body);
          this.o.accessLog?.(`edge ${req.method} ${req.url} → ${status} ${cache}${headers.age ? ` (age ${headers.age})` : ""} ${Math.round(performance.now() - started)} ms`);
        },
        (err: unknown) => {
          res.writeHead(502, { "content-type": "text/plain", "x-cache": "Error from cloudfront" });
          res.end(`The request could not be satisfied: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    });
  }

  private async answer(req: IncomingMessage, body: Buffer): Promise<OriginAnswer & { cache: string }> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? "" : url.slice(q + 1);
    const method = (req.method ?? "GET").toUpperCase();
    const b = this.o.def.behaviors.find((x) => pathMatches(x.pathPattern, path))!;
    if (!b.allowedMethods.includes(method)) {
      const text = "This distribution is not configured to allow the HTTP request method that was used for this request.";
      return this.viewer({ status: 403, headers: { "content-type": "text/html" }, body: Buffer.from(text) }, "Error from cloudfront");
    }
    const keyHeaders = b.cachePolicy.headers.map((h) => `${h}=${String(req.headers[h] ?? "")}`);
    const keyQuery = pick(query, b.cachePolicy.queryStrings);
    const cacheable = b.cachedMethods.includes(method) && b.cachePolicy.maxTtl > 0;
    const key = [method === "HEAD" ? "GET" : method, path, keyQuery.join("&"), ...keyHeaders].join("\n");
    const fetch = () => this.fromOrigin(b, req, method === "HEAD" ? "GET" : method, path, query, body);
    if (!cacheable) return this.viewer(await fetch(), "Miss from cloudfront");

    const kept = this.cache.get(key);
    const now = this.now();
    if (kept) {
      const age = now - kept.storedAt;
      if (age < kept.ttlMs) return this.viewer(kept, "Hit from cloudfront", age);
      if (age < kept.ttlMs + kept.swrMs) {
        this.refresh(key, b, fetch, path, query !== "");
        return this.viewer(kept, "Hit from cloudfront", age);
      }
      this.cache.delete(key);
    }
    const a = await this.coalesced(key, fetch);
    this.keep(key, b, a, path, query !== "");
    return this.viewer(a, "Miss from cloudfront");
  }

  /** One origin request per key at a time: CloudFront collapses concurrent misses. */
  private coalesced(key: string, fetch: () => Promise<OriginAnswer>): Promise<OriginAnswer> {
    let p = this.pending.get(key);
    if (!p) {
      p = fetch().finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  private keep(key: string, b: BehaviorDef, a: OriginAnswer, path: string, hasQuery: boolean): void {
    const { ttlMs, swrMs } = keepFor(b, a, this.o.def.errorCachingTtl);
    if (ttlMs > 0) this.cache.set(key, { ...a, storedAt: this.now(), ttlMs, swrMs, path, hasQuery });
    else this.cache.delete(key);
  }

  private refresh(key: string, b: BehaviorDef, fetch: () => Promise<OriginAnswer>, path: string, hasQuery: boolean): void {
    if (this.refreshing.has(key)) return;
    this.refreshing.add(key);
    this.coalesced(key, fetch).then((a) => this.keep(key, b, a, path, hasQuery), () => undefined).finally(() => this.refreshing.delete(key));
  }

  private viewer(a: OriginAnswer, cache: string, ageMs?: number): OriginAnswer & { cache: string } {
    const headers: Record<string, string> = {
      ...a.headers,
      "x-cache": cache,
      via: `1.1 ${this.o.host} (CloudFront)`,
      "x-amz-cf-pop": "TWIN1-C1",
      "x-amz-cf-id": randomBytes(21).toString("base64url"),
    };
    if (ageMs !== undefined) headers.age = String(Math.floor(ageMs / 1000));
    return { ...a, headers, cache };
  }

  /** The origin request: only what the behaviour's policies forward, plus the custom origin headers. */
  private fromOrigin(b: BehaviorDef, req: IncomingMessage, method: string, path: string, query: string, body: Buffer): Promise<OriginAnswer> {
    const r = b.originRequest;
    const keyHeaders = new Set(b.cachePolicy.headers);
    const headers: Record<string, string> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      if (name === "host" || name === "cookie" || HOP_BY_HOP.has(name)) continue;
      const forwarded = keyHeaders.has(name) ||
        (r.headerBehavior === "whitelist" && r.headers.includes(name)) ||
        r.headerBehavior === "allViewer" ||
        (r.headerBehavior === "allExcept" && !r.headers.includes(name));
      if (forwarded) headers[name] = req.rawHeaders[i + 1];
    }
    Object.assign(headers, this.o.def.originHeaders);
    headers.via = `1.1 ${this.o.host} (CloudFront)`;
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "127.0.0.1";
    headers["x-amz-cf-id"] = randomBytes(21).toString("base64url");
    const forwardedQuery = [...new Set([...pick(query, b.cachePolicy.queryStrings), ...pick(query, r.queryStrings)])].join("&");
    const target = new URL(`${this.o.origin}${this.o.def.originPath}${path}${forwardedQuery ? `?${forwardedQuery}` : ""}`);
    return new Promise((resolve, reject) => {
      const out = httpRequest(target, { method, headers: { ...headers, "content-length": String(body.length) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) h[k] = Array.isArray(v) ? v.join(", ") : v;
          resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
        });
        res.on("error", reject);
      });
      out.on("error", reject);
      out.end(body.length > 0 ? body : undefined);
    });
  }
}
