/**
 * CloudFront in front of a `CacheApi` stage: the edge keeps what the runtime's `Cache-Control`
 * allows (public cached reads, for their `s-maxage`) and never an authenticated answer:
 *
 *   const edge = new CacheEdge(this, "edge", { api });                         // behaviours from the API's routes
 *   new EdgeInvalidator(this, "edge-invalidator", { edge, function: fn, table }); // writes drop their edge copies
 *
 * HTTPS only, TLS 1.2 (2021 policy) with a custom domain, compression, standard logs to an S3
 * bucket, a CLOUDFRONT-scope WAF when the API has one, optional Origin Shield; the API only
 * answers requests that carry the distribution's secret origin header (a WAF rule on the stage).
 */
import { CloudfrontCachePolicy } from "@cdktf/provider-aws/lib/cloudfront-cache-policy";
import { CloudfrontDistribution, CloudfrontDistributionOrderedCacheBehavior } from "@cdktf/provider-aws/lib/cloudfront-distribution";
import { CloudfrontMonitoringSubscription } from "@cdktf/provider-aws/lib/cloudfront-monitoring-subscription";
import { CloudfrontOriginRequestPolicy } from "@cdktf/provider-aws/lib/cloudfront-origin-request-policy";
import type { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { DataResource, Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { RUNTIME_SETTINGS } from "../../functions/lib/contract";
import type { CacheApi } from "../api";
import { customerKey } from "../core/kms";
import { physicalName } from "../core/naming";
import { byProfile, Profile, profileOf } from "../core/profile";
import { PropsValidator } from "../core/validation";
import { PipelineBucket } from "../pipeline/bucket";
import { suppressRule } from "../policy";
import { WebAcl, WebAclProps } from "../waf";
import { EdgeBehavior, edgeBehaviors, EdgeCacheKey, EdgeForwarding } from "./behaviors";
import type { IEdge } from "./interface";
import { usEast1Provider } from "./region";

export { ALL_METHODS, edgeBehaviors, pathPatternOf } from "./behaviors";
export type { EdgeBehavior, EdgeCacheKey, EdgeForwarding } from "./behaviors";
export { CLOUDFRONT_REGION, usEast1Provider } from "./region";
export { EdgeInvalidator } from "./invalidator";
export type { IEdge } from "./interface";
export type { EdgeInvalidatorProps } from "./invalidator";

/** CloudFront price classes: which edge locations serve the distribution. */
export type PriceClass = "PriceClass_100" | "PriceClass_200" | "PriceClass_All";
/** Every {@link PriceClass}. */
export const PRICE_CLASSES: readonly PriceClass[] = ["PriceClass_100", "PriceClass_200", "PriceClass_All"];

/**
 * The error statuses CloudFront caches (for 10 seconds unless told otherwise): the distribution
 * caches none of them, so an error (a throttle, a cold function's 503) is never served twice.
 */
export const CLOUDFRONT_CACHED_ERRORS: readonly number[] = [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504];

/** The minimum TLS policy viewers must meet on a custom domain. */
export const EDGE_TLS_POLICY = "TLSv1.2_2021";
/** The header the distribution adds to every origin request, carrying its secret. */
export const ORIGIN_VERIFY_HEADER = "x-origin-verify";

/** A custom domain of the distribution. */
export interface EdgeDomainProps {
  /** The name viewers use, e.g. `api.example.com` (point a DNS alias or CNAME at `domainName`). */
  readonly domainName: string;
  /** ARN of an ACM certificate for it, in us-east-1 (CloudFront reads certificates there only). */
  readonly certificateArn: string;
}

/** Props of {@link CacheEdge}. */
export interface CacheEdgeProps {
  /** The API whose stage is the origin; its routes (the contracts') decide the behaviours. */
  readonly api: CacheApi;
  /**
   * A custom domain on an ACM certificate in us-east-1: viewers then need TLS 1.2 (policy
   * TLSv1.2_2021). Without one the distribution answers on `*.cloudfront.net`, whose certificate
   * CloudFront serves with its TLSv1 policy (it cannot be raised there).
   * @default none: the `*.cloudfront.net` name only
   */
  readonly domain?: EdgeDomainProps;
  /**
   * Edge locations that serve viewers: `PriceClass_100` (North America, Europe, Israel),
   * `PriceClass_200` (and most of Asia, Africa, the Middle East), `PriceClass_All`.
   * @default "PriceClass_All" in prod, "PriceClass_100" in dev
   */
  readonly priceClass?: PriceClass;
  /**
   * AWS WAF in front of the distribution: a CLOUDFRONT-scope web ACL with these settings (made in
   * us-east-1, through a provider alias when the stack's region is another), an existing
   * CLOUDFRONT-scope `WebAcl`, or `false`.
   * @default a WebAcl with its defaults when the API has a web ACL (prod), none otherwise
   */
  readonly waf?: WebAclProps | WebAcl | false;
  /**
   * Answer only requests that came through the distribution: it sends a secret header to the
   * origin, and a rule of the API's web ACL (one is made for an API without) blocks requests
   * without it. `false` leaves the execute-api URL open as well.
   * @default true
   */
  readonly restrictOriginToEdge?: boolean;
  /**
   * Region of an Origin Shield, a central cache layer between the edge locations and the API
   * (fewer origin requests for a global audience; billed per request through it).
   * @default none
   */
  readonly originShieldRegion?: string;
  /**
   * CloudFront's additional metrics (CacheHitRate, origin latency, error rates by status), which the
   * dashboard's edge hit rate reads; billed as 8 CloudWatch metrics a month.
   * @default true
   */
  readonly additionalMetrics?: boolean;
  /**
   * Days the standard logs are kept in their S3 bucket (1–36500).
   * @default 90 in prod, 14 in dev
   */
  readonly logExpirationDays?: number;
  /**
   * Deployment profile.
   * @default the enclosing stack's profile, else `prod`
   */
  readonly profile?: Profile;
}

const DOMAIN_RE = /^(?=.{1,253}$)(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const US_EAST_1_CERT_RE = /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[A-Za-z0-9-]+$/;
const REGION_RE = /^[a-z]{2}(?:-gov)?-[a-z]+-\d$/;

/**
 * A CloudFront distribution in front of an API stage, with behaviours derived from its routes
 * (see ./behaviors.ts), standard logging to a KMS-encrypted S3 bucket, and the origin locked to it.
 */
export class CacheEdge extends Construct implements IEdge {
  /** The Terraform `aws_cloudfront_distribution` resource. */
  public readonly distribution: CloudfrontDistribution;
  /** Cache policies by the key they describe (one per distinct key, one with caching off). */
  public readonly cachePolicies: readonly CloudfrontCachePolicy[];
  /** Origin request policies (one per distinct forwarding). */
  public readonly originRequestPolicies: readonly CloudfrontOriginRequestPolicy[];
  /** The behaviours, most specific first (the default behaviour passes everything else through). */
  public readonly behaviors: readonly EdgeBehavior[];
  /** The standard logs' bucket. */
  public readonly logBucket: PipelineBucket;
  /** The bucket's key (CloudFront's log delivery may use it). */
  public readonly logKey: KmsKey;
  /** The CLOUDFRONT-scope web ACL, when there is one. */
  public readonly webAcl?: WebAcl;
  /** The regional web ACL that holds the origin-verify rule (the API's own, or one made for it). */
  public readonly originAcl?: WebAcl;
  /** Holds the secret of the origin-verify header (in Terraform state), when the origin is restricted. */
  public readonly originSecret?: DataResource;
  /** @attribute — the secret itself, when the origin is restricted: never put it in an output. */
  public readonly originSecretValue?: string;
  /** The API behind it. */
  public readonly api: CacheApi;
  /** @attribute The distribution's id. */
  public readonly distributionId: string;
  /** @attribute The distribution's ARN. */
  public readonly distributionArn: string;
  /** @attribute — `d111111abcdef8.cloudfront.net`. */
  public readonly domainName: string;
  /** @attribute — the base URL viewers use: `https://<custom domain or cloudfront name>` (the stage is the origin path). */
  public readonly url: string;
  /** Longest time (s) an answer stays at the edge: the functions' largest `s-maxage`. */
  public readonly maxTtlSeconds: number;
  /** Price class in force, after defaults. */
  public readonly priceClass: PriceClass;
  /** Whether the additional metrics are on, after defaults. */
  public readonly additionalMetrics: boolean;
  /** Turns the additional metrics on, when they are. */
  public readonly monitoring?: CloudfrontMonitoringSubscription;

  constructor(scope: Construct, id: string, props: CacheEdgeProps) {
    super(scope, id);
    const profile = profileOf(this, props.profile);
    const api = props.api;
    this.api = api;
    this.priceClass = props.priceClass ?? byProfile<PriceClass>(profile, { dev: "PriceClass_100", prod: "PriceClass_All" });
    const restrict = props.restrictOriginToEdge ?? true;
    const expiration = props.logExpirationDays ?? byProfile(profile, { dev: 14, prod: 90 });
    this.behaviors = edgeBehaviors(api.routes);
    const cachedFunctions = [...new Set(api.routes.filter((r) => this.behaviors.some((b) => b.cached && b.routes.includes(`${r.method} ${r.path}`))).map((r) => r.function))];
    const sMaxAge = (fn: { settings: Readonly<Record<string, unknown>> }) =>
      Number(fn.settings.cacheControlSharedMaxAgeSeconds ?? RUNTIME_SETTINGS.cacheControlSharedMaxAgeSeconds.default);
    this.maxTtlSeconds = Math.max(0, ...cachedFunctions.map(sMaxAge));

    const v = PropsValidator.for(this)
      .oneOf("priceClass", this.priceClass, PRICE_CLASSES)
      .intRange("logExpirationDays", expiration, 1, 36_500)
      .matches("originShieldRegion", props.originShieldRegion, REGION_RE, "an AWS region name such as \"us-east-1\"");
    if (props.domain) {
      v.matches("domain.domainName", props.domain.domainName, DOMAIN_RE, "a DNS name such as \"api.example.com\" (lower case)")
        .matches("domain.certificateArn", props.domain.certificateArn, US_EAST_1_CERT_RE,
          "an ACM certificate ARN in us-east-1 (arn:aws:acm:us-east-1:<account>:certificate/<id>): CloudFront reads certificates there only");
    }
    for (const fn of cachedFunctions) {
      v.check(sMaxAge(fn) >= 1, `api.function(${fn.node.path}).settings.cacheControlSharedMaxAgeSeconds`, sMaxAge(fn),
        "at least 1 behind an edge: with s-maxage 0 the edge keeps nothing, so it only adds a hop");
    }
    v.check(props.waf === undefined || props.waf === false || !(props.waf instanceof WebAcl) || props.waf.scope === "CLOUDFRONT", "waf",
      props.waf instanceof WebAcl ? props.waf.node.path : props.waf, "a WebAcl with scope \"CLOUDFRONT\" (a distribution cannot use a regional ACL)");
    v.throwIfAny();

    // --- the origin-verify secret: generated by Terraform at apply, then kept (uuid() changes every plan)
    const origin = "api";
    if (restrict) {
      this.originSecret = new DataResource(this, "origin-secret", {
        input: { secret: Fn.replace(`${Fn.uuid()}${Fn.uuid()}`, "-", "") },
        lifecycle: { ignoreChanges: ["input"] },
      });
      const secret = Token.asString(this.originSecret.output.lookup("secret"));
      this.originSecretValue = secret;
      if (api.webAcl) this.originAcl = api.webAcl;
      else {
        // An API without WAF (dev) gets a minimal one: the origin rule and the per-IP limit.
        this.originAcl = new WebAcl(this, "origin-waf", { managedRuleGroups: [], profile });
        new Wafv2WebAclAssociation(this, "origin-waf-association", { resourceArn: api.stage.arn, webAclArn: this.originAcl.webAclArn });
      }
      this.originAcl.requireHeader(ORIGIN_VERIFY_HEADER, secret);
    }

    // --- policies: one per distinct cache key / forwarding
    const base = physicalName(this, 100);
    const cachePolicies = new Map<string, CloudfrontCachePolicy>();
    const cachePolicy = (key: EdgeCacheKey | undefined): CloudfrontCachePolicy => {
      const k = JSON.stringify(key ?? null);
      const existing = cachePolicies.get(k);
      if (existing) return existing;
      const n = cachePolicies.size;
      const policy = key
        ? new CloudfrontCachePolicy(this, `cache-policy-${n}`, {
            name: `${base}-cache-${n}`,
            comment: `Follows the origin's Cache-Control (max ${this.maxTtlSeconds} s)${key.authorization ? "; Authorization in the key" : ""}`,
            minTtl: 0, // so private and no-store are honoured
            defaultTtl: 0, // an answer without Cache-Control is not kept
            maxTtl: this.maxTtlSeconds,
            parametersInCacheKeyAndForwardedToOrigin: {
              enableAcceptEncodingGzip: true,
              enableAcceptEncodingBrotli: true,
              cookiesConfig: { cookieBehavior: "none" },
              headersConfig: key.authorization ? { headerBehavior: "whitelist", headers: { items: ["Authorization"] } } : { headerBehavior: "none" },
              queryStringsConfig: key.queryStrings.length > 0
                ? { queryStringBehavior: "whitelist", queryStrings: { items: [...key.queryStrings] } }
                : { queryStringBehavior: "none" },
            },
          })
        : new CloudfrontCachePolicy(this, "cache-policy-off", {
            name: `${base}-no-cache`,
            comment: "Caching off: every request goes to the API",
            minTtl: 0,
            defaultTtl: 0,
            maxTtl: 0,
            parametersInCacheKeyAndForwardedToOrigin: {
              enableAcceptEncodingGzip: false,
              enableAcceptEncodingBrotli: false,
              cookiesConfig: { cookieBehavior: "none" },
              headersConfig: { headerBehavior: "none" },
              queryStringsConfig: { queryStringBehavior: "none" },
            },
          });
      cachePolicies.set(k, policy);
      return policy;
    };
    const requestPolicies = new Map<string, CloudfrontOriginRequestPolicy>();
    const requestPolicy = (f: EdgeForwarding): CloudfrontOriginRequestPolicy => {
      const k = JSON.stringify(f);
      const existing = requestPolicies.get(k);
      if (existing) return existing;
      const n = requestPolicies.size;
      const policy = new CloudfrontOriginRequestPolicy(this, `request-policy-${n}`, {
        name: `${base}-forward-${n}`,
        comment: f.allViewerHeadersExceptHost ? "Every viewer header but Host (Authorization with caching off)" : `Headers: ${f.headers.join(", ") || "none"}`,
        cookiesConfig: { cookieBehavior: "none" },
        headersConfig: f.allViewerHeadersExceptHost
          ? { headerBehavior: "allExcept", headers: { items: ["host"] } }
          : f.headers.length > 0 ? { headerBehavior: "whitelist", headers: { items: [...f.headers] } } : { headerBehavior: "none" },
        queryStringsConfig: f.queryStrings.length > 0
          ? { queryStringBehavior: "whitelist", queryStrings: { items: [...f.queryStrings] } }
          : { queryStringBehavior: "none" },
      });
      requestPolicies.set(k, policy);
      return policy;
    };
    const behaviorOf = (b: EdgeBehavior): Omit<CloudfrontDistributionOrderedCacheBehavior, "pathPattern"> => ({
      targetOriginId: origin,
      viewerProtocolPolicy: "https-only",
      allowedMethods: [...b.allowedMethods],
      cachedMethods: ["GET", "HEAD"],
      cachePolicyId: cachePolicy(b.cached ? b.cacheKey : undefined).id,
      originRequestPolicyId: requestPolicy(b.forwarding).id,
      compress: true,
    });
    const ordered = this.behaviors.map((b) => ({ pathPattern: b.pathPattern, ...behaviorOf(b) }));
    // Anything no route covers: passed through uncached, nothing forwarded (API Gateway answers 403).
    const fallback = behaviorOf({ pathPattern: "*", routes: [], cached: false, forwarding: { allViewerHeadersExceptHost: false, headers: [], queryStrings: [] }, allowedMethods: ["GET", "HEAD"] });
    this.cachePolicies = [...cachePolicies.values()];
    this.originRequestPolicies = [...requestPolicies.values()];

    // --- standard logs (legacy): CloudFront writes them with an ACL grant, so the bucket keeps ACLs
    // (BucketOwnerPreferred: the objects still become the bucket owner's) and its key lets log delivery encrypt.
    this.logKey = customerKey(this, "log-key", {
      description: `Encrypts the CloudFront standard logs of ${this.node.path}`,
      arnInStack: api.routes[0].function.role.roleArn,
      profile,
      services: [{ sid: "CloudFrontLogDeliveryEncrypts", service: "delivery.logs.amazonaws.com", actions: "kms:GenerateDataKey*" }],
    });
    this.logBucket = new PipelineBucket(this, "logs", {
      keyArn: this.logKey.arn, purpose: "edge-logs", expireObjectsAfterDays: expiration, noncurrentVersionDays: 1, objectOwnership: "BucketOwnerPreferred",
    });

    // --- WAF at the edge (CLOUDFRONT scope: us-east-1)
    const waf = props.waf ?? (api.webAcl ? {} : false);
    if (waf !== false) {
      this.webAcl = waf instanceof WebAcl ? waf : new WebAcl(this, "waf", { ...waf, scope: "CLOUDFRONT", provider: usEast1Provider(this), profile });
    }

    this.distribution = new CloudfrontDistribution(this, "distribution", {
      enabled: true,
      comment: `Edge of ${api.node.path}`.slice(0, 128),
      isIpv6Enabled: true,
      httpVersion: "http2and3",
      priceClass: this.priceClass,
      aliases: props.domain ? [props.domain.domainName] : undefined,
      origin: [{
        originId: origin,
        // https://<id>.execute-api.<region>.amazonaws.com/<stage> → the host, and the stage as the origin path
        domainName: Fn.element(Fn.split("/", api.url), 2),
        originPath: `/${api.stageName}`,
        customOriginConfig: {
          httpPort: 80,
          httpsPort: 443,
          originProtocolPolicy: "https-only",
          originSslProtocols: ["TLSv1.2"],
          // API Gateway's own integration limit is 29 s.
          originReadTimeout: 30,
          originKeepaliveTimeout: 5,
        },
        customHeader: this.originSecretValue ? [{ name: ORIGIN_VERIFY_HEADER, value: this.originSecretValue }] : undefined,
        originShield: props.originShieldRegion ? { enabled: true, originShieldRegion: props.originShieldRegion } : undefined,
      }],
      defaultCacheBehavior: fallback,
      orderedCacheBehavior: ordered,
      customErrorResponse: CLOUDFRONT_CACHED_ERRORS.map((errorCode) => ({ errorCode, errorCachingMinTtl: 0 })),
      restrictions: { geoRestriction: { restrictionType: "none" } },
      viewerCertificate: props.domain
        ? { acmCertificateArn: props.domain.certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: EDGE_TLS_POLICY }
        : { cloudfrontDefaultCertificate: true },
      loggingConfig: { bucket: this.logBucket.resource.bucketDomainName, includeCookies: false, prefix: "cloudfront/" },
      webAclId: this.webAcl?.webAclArn,
    });
    if (!props.domain) {
      suppressRule(this.distribution, "CF-CF-2",
        "no custom domain: CloudFront serves *.cloudfront.net with its own certificate under its TLSv1 policy, which cannot be raised; " +
          "set CacheEdge.domain (an ACM certificate in us-east-1) for TLSv1.2_2021");
    }
    this.additionalMetrics = props.additionalMetrics ?? true;
    if (this.additionalMetrics) {
      this.monitoring = new CloudfrontMonitoringSubscription(this, "metrics", {
        distributionId: this.distribution.id,
        monitoringSubscription: { realtimeMetricsSubscriptionConfig: { realtimeMetricsSubscriptionStatus: "Enabled" } },
      });
    }
    this.distributionId = this.distribution.id;
    this.distributionArn = this.distribution.arn;
    this.domainName = this.distribution.domainName;
    this.url = `https://${props.domain ? props.domain.domainName : this.distribution.domainName}`;
  }
}
