/**
 * The one CloudFront API call the twin's functions make, CreateInvalidation
 * (`POST /2020-05-31/distribution/<id>/invalidation`, REST-XML), answered the way CloudFront
 * answers it: 201 with the invalidation; the same CallerReference again returns the invalidation it
 * already has (no second one), with other paths 409 InvalidationBatchAlreadyExists; an unknown
 * distribution 404 NoSuchDistribution; Quantity not matching the paths 400 InconsistentQuantities;
 * more than 3,000 paths 400 TooManyInvalidationsInProgress. The SigV4 signature is checked as
 * CloudFront checks it (for service `cloudfront`, with the twin's credentials): unsigned 403
 * MissingAuthenticationToken, a bad signature 403 SignatureDoesNotMatch, another key 403 InvalidClientTokenId.
 */
import { randomBytes } from "crypto";
import type { IncomingMessage, ServerResponse } from "http";
import { verifySigV4 } from "./sigv4";

const PATH_RE = /^\/2020-05-31\/distribution\/([A-Za-z0-9]+)\/invalidation\/?$/;
const XMLNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/";
const MAX_PATHS = 3_000;

/** One invalidation as the twin recorded it. */
export interface LocalInvalidation {
  readonly id: string;
  readonly distributionId: string;
  readonly callerReference: string;
  readonly paths: readonly string[];
  readonly createdAt: string;
}

const unescapeXml = (s: string) =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_m, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, "&");
const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const tag = (xml: string, name: string) => new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1];

function error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": randomBytes(8).toString("hex") });
  res.end(`<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>twin</RequestId></ErrorResponse>`);
}

function answer(res: ServerResponse, inv: LocalInvalidation): void {
  const items = inv.paths.map((p) => `<Path>${escapeXml(p)}</Path>`).join("");
  res.writeHead(201, {
    "content-type": "text/xml",
    location: `https://cloudfront.amazonaws.com/2020-05-31/distribution/${inv.distributionId}/invalidation/${inv.id}`,
    "x-amzn-requestid": randomBytes(8).toString("hex"),
  });
  res.end(`<?xml version="1.0"?><Invalidation xmlns="${XMLNS}"><Id>${inv.id}</Id><Status>Completed</Status><CreateTime>${inv.createdAt}</CreateTime>` +
    `<InvalidationBatch><Paths><Quantity>${inv.paths.length}</Quantity><Items>${items}</Items></Paths><CallerReference>${escapeXml(inv.callerReference)}</CallerReference></InvalidationBatch></Invalidation>`);
}

/** The CloudFront API of the distributions the twin emulates. */
export class LocalCloudFrontApi {
  private readonly byReference = new Map<string, LocalInvalidation>();
  /** Every invalidation made, oldest first. */
  readonly invalidations: LocalInvalidation[] = [];

  /**
   * @param distributions the distribution ids that exist
   * @param onInvalidate applies an invalidation (drops the edge copies); runs before the answer, as
   *   the twin's edge completes invalidations at once (CloudFront takes seconds to minutes)
   */
  constructor(private readonly distributions: ReadonlySet<string>, private readonly onInvalidate: (inv: LocalInvalidation) => void) {}

  /** True when `req` is a CloudFront API call (then it is answered). */
  handles(req: IncomingMessage): boolean {
    return PATH_RE.test((req.url ?? "").split("?")[0]);
  }

  /** Answers one call; the body is read here. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const [path, query = ""] = (req.url ?? "/").split("?");
      verifySigV4({ method: req.method ?? "GET", path, query, headers: req.headers, body: raw }, Date.now()).then((signed) => {
        if (!signed.ok) {
          const [status, code] = signed.error === "MISSING_AUTHENTICATION_TOKEN" ? [403, "MissingAuthenticationToken"]
            : signed.error === "UNRECOGNIZED_CLIENT" ? [403, "InvalidClientTokenId"] : [403, "SignatureDoesNotMatch"];
          return error(res, status, code, signed.message ?? "The request signature we calculated does not match the signature you provided");
        }
        if (signed.service !== "cloudfront") return error(res, 403, "SignatureDoesNotMatch", `Credential should be scoped to correct service: 'cloudfront', not '${signed.service}'`);
        this.answer(req, raw.toString("utf8"), res);
      }, () => error(res, 500, "InternalError", "signature check failed"));
    });
  }

  private answer(req: IncomingMessage, body: string, res: ServerResponse): void {
    const id = PATH_RE.exec((req.url ?? "").split("?")[0])![1];
    if (req.method !== "POST") return error(res, 405, "MethodNotAllowed", `${req.method} is not supported here; the twin emulates CreateInvalidation only`);
    if (!this.distributions.has(id)) return error(res, 404, "NoSuchDistribution", `The specified distribution does not exist: ${id}`);
    const ref = tag(body, "CallerReference");
    const quantity = Number(tag(body, "Quantity"));
    const paths = [...body.matchAll(/<Path>([\s\S]*?)<\/Path>/g)].map((m) => unescapeXml(m[1]));
    if (!ref) return error(res, 400, "MissingBody", "CallerReference is required");
    if (!Number.isInteger(quantity) || quantity !== paths.length) {
      return error(res, 400, "InconsistentQuantities", `Quantity ${tag(body, "Quantity")} does not match the ${paths.length} paths`);
    }
    if (paths.length === 0) return error(res, 400, "InvalidArgument", "at least one path is required");
    if (paths.length > MAX_PATHS) return error(res, 400, "TooManyInvalidationsInProgress", `at most ${MAX_PATHS} paths at a time`);
    const bad = paths.find((p) => !p.startsWith("/"));
    if (bad) return error(res, 400, "InvalidArgument", `path ${bad} must start with /`);
    const key = `${id} ${ref}`;
    const prior = this.byReference.get(key);
    if (prior) {
      if (prior.paths.join("\n") !== paths.join("\n")) {
        return error(res, 409, "InvalidationBatchAlreadyExists", `CallerReference ${ref} was used with other paths`);
      }
      return answer(res, prior);
    }
    const inv: LocalInvalidation = {
      id: `I${randomBytes(6).toString("hex").toUpperCase()}`, distributionId: id, callerReference: ref, paths, createdAt: new Date().toISOString(),
    };
    this.byReference.set(key, inv);
    this.invalidations.push(inv);
    this.onInvalidate(inv);
    answer(res, inv);
  }
}
