/**
 * SigV4 as AWS checks it on the twin's side: a request signed with the twin's fake credentials
 * (any other key is refused) within AWS's clock skew, its signature recomputed over the signed
 * headers, query and body. The API Gateway IAM authorizer, the WebSocket management API
 * (`@connections`) and the Lambda Invoke API use it; no IAM policy is evaluated (there is no IAM here).
 *   const r = await verifySigV4({ method, path, query, headers, body }, Date.now());   // r.ok, else r.error
 */
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { timingSafeEqual } from "crypto";
import type { IncomingHttpHeaders } from "http";
import { FAKE_CREDENTIALS } from "./local";

/** SigV4 allows this much clock skew between the signer and AWS. */
const MAX_SIGNATURE_SKEW_MS = 5 * 60_000;

/** A request as signed: `path` exactly as the client's signer saw it (without the query string). */
export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  /** Raw query string without `?`. */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Why a signature is refused: the error kinds AWS answers with. */
export type SignatureError = "MISSING_AUTHENTICATION_TOKEN" | "INCOMPLETE_SIGNATURE" | "INVALID_SIGNATURE" | "UNRECOGNIZED_CLIENT";

/** A verified signature (its access key and signing service), or why not. */
export type SigV4Outcome =
  | { readonly ok: true; readonly accessKeyId: string; readonly service: string }
  | { readonly ok: false; readonly error: SignatureError; readonly message?: string };

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(",") : v;
}

/** Verifies the request's `Authorization: AWS4-HMAC-SHA256 …` header at time `now`. */
export async function verifySigV4(req: SignedRequest, now: number): Promise<SigV4Outcome> {
  const auth = headerValue(req.headers, "authorization");
  if (!auth) return { ok: false, error: "MISSING_AUTHENTICATION_TOKEN" };
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { ok: false, error: "INCOMPLETE_SIGNATURE", message: "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters" };
  const [, accessKeyId, , region, service, signedHeaders, signature] = m;
  if (accessKeyId !== FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID) return { ok: false, error: "UNRECOGNIZED_CLIENT" };
  const amzDate = headerValue(req.headers, "x-amz-date") ?? "";
  const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dm) return { ok: false, error: "INCOMPLETE_SIGNATURE", message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header" };
  const signingDate = new Date(Date.UTC(+dm[1], +dm[2] - 1, +dm[3], +dm[4], +dm[5], +dm[6]));
  if (Math.abs(now - signingDate.getTime()) > MAX_SIGNATURE_SKEW_MS) return { ok: false, error: "INVALID_SIGNATURE", message: "Signature expired" };
  const sessionToken = headerValue(req.headers, "x-amz-security-token");
  if (sessionToken !== undefined && sessionToken !== FAKE_CREDENTIALS.AWS_SESSION_TOKEN) return { ok: false, error: "UNRECOGNIZED_CLIENT" };

  const headers: Record<string, string> = {};
  for (const h of signedHeaders.split(";")) {
    const v = headerValue(req.headers, h);
    if (v !== undefined) headers[h] = v;
  }
  const query: Record<string, string | string[]> = {};
  for (const part of req.query.split("&").filter(Boolean)) {
    const eq = part.indexOf("=");
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, " "));
    const prior = query[k];
    query[k] = prior === undefined ? v : [...(Array.isArray(prior) ? prior : [prior]), v];
  }
  const host = headers.host ?? "";
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY, sessionToken },
    region,
    service,
    sha256: Hash.bind(null, "sha256"),
  });
  const signed = await signer.sign(
    { method: req.method, protocol: "http:", hostname: host.replace(/:\d+$/, ""), port: Number(host.split(":")[1]) || undefined, path: req.path, query, headers, body: req.body.length > 0 ? req.body : undefined },
    { signingDate, signableHeaders: new Set(signedHeaders.split(";")) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization))?.[1] ?? "";
  if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return { ok: false, error: "INVALID_SIGNATURE" };
  }
  return { ok: true, accessKeyId, service };
}
