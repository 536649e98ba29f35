/**
 * The CloudFront distribution of a stack, read from its synthesized JSON (never from CacheEdge's
 * TypeScript): behaviours with their cache and origin request policies, the origin path, the
 * custom origin headers, error caching, and the regional web ACL rules that require a header
 * (the origin lock). Values Terraform generates at apply (the origin secret) are generated here,
 * one per expression, so the edge and the gateway's rule agree.
 */
import { randomBytes } from "crypto";
import { CLOUDFRONT_CACHED_ERRORS } from "../../modules";
import type { StackJson } from "./stack";

/** What a cache policy keys on and how long it keeps. */
export interface CachePolicyDef {
  readonly minTtl: number;
  readonly defaultTtl: number;
  readonly maxTtl: number;
  /** Headers in the key (lower case). */
  readonly headers: readonly string[];
  /** `none`, `all`, or the names in the key. */
  readonly queryStrings: "none" | "all" | readonly string[];
}

/** What an origin request policy forwards. */
export interface OriginRequestDef {
  /** `none`, `all` (every viewer header), `allExcept` (all but `headers`), `whitelist`. */
  readonly headerBehavior: "none" | "whitelist" | "allViewer" | "allExcept";
  /** Header names (lower case) of the whitelist or the exceptions. */
  readonly headers: readonly string[];
  readonly queryStrings: "none" | "all" | readonly string[];
}

/** One cache behaviour. */
export interface BehaviorDef {
  /** `*` for the default behaviour. */
  readonly pathPattern: string;
  readonly allowedMethods: readonly string[];
  readonly cachedMethods: readonly string[];
  readonly viewerProtocolPolicy: string;
  readonly cachePolicy: CachePolicyDef;
  readonly originRequest: OriginRequestDef;
}

/** The distribution. */
export interface EdgeDef {
  readonly logicalId: string;
  /** The path prefix CloudFront adds before the origin (the stage). */
  readonly originPath: string;
  /** Headers CloudFront adds to every origin request (values generated when Terraform would). */
  readonly originHeaders: Readonly<Record<string, string>>;
  /** Ordered behaviours first, the default last. */
  readonly behaviors: readonly BehaviorDef[];
  /** Seconds an error status is cached (CloudFront's default 10, or the distribution's custom error response). */
  readonly errorCachingTtl: Readonly<Record<number, number>>;
  /** Headers the stage's regional web ACL requires with an exact value (its origin lock). */
  readonly requiredAtOrigin: Readonly<Record<string, string>>;
  /** What the twin does not emulate, one line each. */
  readonly notes: readonly string[];
}


type Cfg = Record<string, unknown>;
const arr = (v: unknown): Cfg[] => (Array.isArray(v) ? (v as Cfg[]) : v && typeof v === "object" ? [v as Cfg] : []);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const num = (v: unknown, d: number) => (typeof v === "number" ? v : typeof v === "string" && v !== "" && Number.isFinite(Number(v)) ? Number(v) : d);
const refName = (v: unknown, type: string) => new RegExp(`^\\$\\{${type}\\.([A-Za-z0-9_-]+)\\.id\\}$`).exec(String(v ?? ""))?.[1];

/** CloudFront's managed CachingDisabled policy, for behaviours that name it by id. */
const MANAGED_CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";

/** A literal value, or a secret generated once per Terraform expression. */
function generated(secrets: Map<string, string>, v: unknown): string {
  const s = String(v ?? "");
  if (!s.includes("${")) return s;
  let g = secrets.get(s);
  if (!g) secrets.set(s, (g = randomBytes(32).toString("hex")));
  return g;
}

function keyList(behavior: string, cfg: Cfg | undefined, items: string): "none" | "all" | string[] {
  if (!cfg) return "none";
  const b = String(cfg[behavior] ?? "none");
  if (b === "all" || b === "allViewer") return "all";
  if (b === "none") return "none";
  return strs(arr(cfg[items])[0]?.items);
}

/** The stack's distribution, if it has one (the first, with a note when there are more). */
export function readEdge(json: StackJson): EdgeDef | undefined {
  const res = (json.resource ?? {}) as Record<string, Record<string, Cfg>>;
  const dists = Object.entries(res.aws_cloudfront_distribution ?? {});
  if (dists.length === 0) return undefined;
  const notes: string[] = [];
  if (dists.length > 1) notes.push(`the stack has ${dists.length} distributions; the twin serves ${dists[0][0]} only`);
  const [logicalId, d] = dists[0];
  const secrets = new Map<string, string>();

  const cachePolicies = res.aws_cloudfront_cache_policy ?? {};
  const requestPolicies = res.aws_cloudfront_origin_request_policy ?? {};
  const cachePolicyOf = (id: unknown): CachePolicyDef => {
    if (id === MANAGED_CACHING_DISABLED) return { minTtl: 0, defaultTtl: 0, maxTtl: 0, headers: [], queryStrings: "none" };
    const p = cachePolicies[refName(id, "aws_cloudfront_cache_policy") ?? ""];
    if (!p) {
      notes.push(`cache policy ${String(id)} is not in the stack (a managed one?): treated as caching disabled`);
      return { minTtl: 0, defaultTtl: 0, maxTtl: 0, headers: [], queryStrings: "none" };
    }
    const key = arr(p.parameters_in_cache_key_and_forwarded_to_origin)[0] ?? {};
    const headers = arr(key.headers_config)[0];
    return {
      minTtl: num(p.min_ttl, 0),
      defaultTtl: num(p.default_ttl, 86_400),
      maxTtl: num(p.max_ttl, 31_536_000),
      headers: String(headers?.header_behavior ?? "none") === "none" ? [] : strs(arr(headers?.headers)[0]?.items).map((h) => h.toLowerCase()),
      queryStrings: keyList("query_string_behavior", arr(key.query_strings_config)[0], "query_strings"),
    };
  };
  const requestPolicyOf = (id: unknown): OriginRequestDef => {
    const p = id === undefined ? undefined : requestPolicies[refName(id, "aws_cloudfront_origin_request_policy") ?? ""];
    if (id !== undefined && !p) notes.push(`origin request policy ${String(id)} is not in the stack: nothing extra forwarded`);
    const headers = arr(p?.headers_config)[0];
    const behavior = String(headers?.header_behavior ?? "none");
    return {
      headerBehavior: (["none", "whitelist", "allViewer", "allExcept"].includes(behavior) ? behavior : "allViewer") as OriginRequestDef["headerBehavior"],
      headers: strs(arr(headers?.headers)[0]?.items).map((h) => h.toLowerCase()),
      queryStrings: keyList("query_string_behavior", arr(p?.query_strings_config)[0], "query_strings"),
    };
  };
  const behaviorOf = (b: Cfg, pathPattern: string): BehaviorDef => ({
    pathPattern,
    allowedMethods: strs(b.allowed_methods),
    cachedMethods: strs(b.cached_methods),
    viewerProtocolPolicy: String(b.viewer_protocol_policy ?? "allow-all"),
    cachePolicy: cachePolicyOf(b.cache_policy_id),
    originRequest: requestPolicyOf(b.origin_request_policy_id),
  });
  const behaviors = [
    ...arr(d.ordered_cache_behavior).map((b) => behaviorOf(b, String(b.path_pattern))),
    ...arr(d.default_cache_behavior).map((b) => behaviorOf(b, "*")),
  ];
  const origin = arr(d.origin)[0] ?? {};
  if (arr(d.origin).length > 1) notes.push("the distribution has several origins; the twin sends everything to the API");
  const originHeaders = Object.fromEntries(arr(origin.custom_header).map((h) => [String(h.name).toLowerCase(), generated(secrets, h.value)]));
  if (arr(origin.origin_shield)[0]?.enabled) notes.push("Origin Shield: one edge cache here stands for the edge locations and the shield");

  const errorCachingTtl: Record<number, number> = Object.fromEntries(CLOUDFRONT_CACHED_ERRORS.map((c) => [c, 10]));
  for (const e of arr(d.custom_error_response)) errorCachingTtl[num(e.error_code, 0)] = num(e.error_caching_min_ttl, 10);

  // The origin lock: a REGIONAL web ACL's rule that blocks requests without a header's exact value.
  const requiredAtOrigin: Record<string, string> = {};
  for (const acl of Object.values(res.aws_wafv2_web_acl ?? {})) {
    if (acl.scope !== "REGIONAL") continue;
    for (const rule of arr(acl.rule)) {
      const match = arr(arr(arr(arr(rule.statement)[0]?.not_statement)[0]?.statement)[0]?.byte_match_statement)[0];
      const header = arr(arr(match?.field_to_match)[0]?.single_header)[0]?.name;
      if (match && header && match.positional_constraint === "EXACTLY" && arr(rule.action)[0]?.block !== undefined) {
        requiredAtOrigin[String(header).toLowerCase()] = generated(secrets, match.search_string);
      }
    }
  }
  notes.push("viewer TLS, WAF rate rules and managed rule groups, compression and geo restrictions are not emulated");
  return {
    logicalId,
    originPath: String(origin.origin_path ?? ""),
    originHeaders,
    behaviors,
    errorCachingTtl,
    requiredAtOrigin,
    notes,
  };
}
