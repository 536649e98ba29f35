/**
 * The twin as a token issuer: a key pair made when the twin starts, its public half served as a
 * JWKS on the twin's port, and tokens signed with the private half for the issuer and audience the
 * stack's authorizer is configured with (so the authorizer's own checks run unchanged). The key
 * is saved (mode 0600) for `npm run token` while the twin runs, and removed when it stops.
 *   const issuer = await LocalIssuer.create({ kind: "jwt", issuer, audience, identityClaim: "sub", alg: "RS256", jwksUrl });
 *   const token = await issuer.token("customer-1");
 */
import { randomBytes } from "crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "fs";
import { exportJWK, generateKeyPair, importJWK, JWK, JWTPayload, jwtVerify, SignJWT } from "jose";
import * as path from "path";
import { AUTHORIZER } from "../../functions/authorizer/contract";
import type { StackModel } from "./stack";

/** Path (below the twin's base URL, outside every stage) where the JWKS is served. */
export const JWKS_PATH = "/_twin/jwks.json";

/** Longest lifetime `npm run token` signs for. */
export const MAX_TOKEN_TTL_SECONDS = 7 * 86_400;

/** What the issuer signs for: a JWT authorizer's settings, or a Cognito user pool's shape. */
export interface IssuerConfig {
  /** `jwt`: tokens for the Lambda authorizer; `cognito`: tokens as a user pool issues them. */
  readonly kind: "jwt" | "cognito";
  readonly issuer: string;
  /** `aud` of JWT and Cognito ID tokens (Cognito: the app client id). */
  readonly audience: string;
  /** The claim that carries the caller's id. */
  readonly identityClaim: string;
  /** JWS algorithm of the key (the authorizer's first accepted one). */
  readonly alg: string;
  /** Where the twin serves the JWKS. */
  readonly jwksUrl: string;
  /** Cognito: scopes the methods require (tokens are then access tokens carrying them). */
  readonly scopes?: readonly string[];
}

interface IssuerFile extends IssuerConfig {
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

export class LocalIssuer {
  private constructor(
    /** What it signs for. */
    readonly config: IssuerConfig,
    private readonly kid: string,
    private readonly privateJwk: JWK,
    private readonly publicJwk: JWK,
  ) {}

  /** A fresh key pair for `config.alg`. */
  static async create(config: IssuerConfig): Promise<LocalIssuer> {
    const { publicKey, privateKey } = await generateKeyPair(config.alg, { extractable: true });
    const kid = `twin-${randomBytes(6).toString("hex")}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: config.alg, use: "sig" };
    return new LocalIssuer(config, kid, { ...(await exportJWK(privateKey)), kid, alg: config.alg }, publicJwk);
  }

  /** The issuer a running twin saved; a clear error when there is none. */
  static load(file: string): LocalIssuer {
    if (!existsSync(file)) throw new Error(`${file} not found: start the twin first (npm start), its key lives only while it runs`);
    const f = JSON.parse(readFileSync(file, "utf8")) as IssuerFile;
    const { kid, privateJwk, publicJwk, ...config } = f;
    return new LocalIssuer(config, kid, privateJwk, publicJwk);
  }

  /** The JWKS document the authorizer fetches. */
  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** Saves the key for `npm run token` (only the user may read it). */
  save(file: string): void {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const content: IssuerFile = { ...this.config, kid: this.kid, privateJwk: this.privateJwk, publicJwk: this.publicJwk };
    writeFileSync(tmp, JSON.stringify(content, null, 2) + "\n", { mode: 0o600 });
    renameSync(tmp, file);
  }

  /** Removes `file` if it still holds this key (a newer twin may have replaced it). */
  forget(file: string): void {
    try {
      if ((JSON.parse(readFileSync(file, "utf8")) as IssuerFile).kid === this.kid) rmSync(file, { force: true });
    } catch {
      /* gone already */
    }
  }

  /**
   * A token for `subject`, valid for `ttlSeconds`; `claims` are added (and may override the
   * defaults, so tests can make expired or foreign tokens).
   */
  async token(subject: string, opts: { ttlSeconds?: number; claims?: JWTPayload } = {}): Promise<string> {
    const c = this.config;
    const now = Math.floor(Date.now() / 1000);
    const base: JWTPayload = c.kind === "cognito"
      ? c.scopes && c.scopes.length > 0
        ? { token_use: "access", client_id: c.audience, scope: c.scopes.join(" ") }
        : { token_use: "id", aud: c.audience, "cognito:username": subject }
      : { aud: c.audience };
    const payload: JWTPayload = { ...base, iss: c.issuer, [c.identityClaim]: subject, iat: now, exp: now + (opts.ttlSeconds ?? 3600), ...opts.claims };
    return new SignJWT(payload).setProtectedHeader({ alg: c.alg, kid: this.kid, typ: "JWT" }).sign(await importJWK(this.privateJwk, c.alg));
  }

  /**
   * Verifies a token as API Gateway's COGNITO_USER_POOLS authorizer does with the pool's keys:
   * signature, issuer, expiry, and the token kind (access tokens with a required scope, else ID tokens).
   */
  async verifyCognito(token: string): Promise<JWTPayload> {
    const c = this.config;
    const { payload } = await jwtVerify(token, await importJWK(this.publicJwk, c.alg), { issuer: c.issuer, algorithms: [c.alg], requiredClaims: ["exp"] });
    const scopes = c.scopes ?? [];
    if (scopes.length > 0) {
      const granted = String(payload.scope ?? "").split(" ");
      if (payload.token_use !== "access" || !scopes.some((s) => granted.includes(s))) throw new Error("token without a required scope");
    } else if (payload.token_use !== "id") throw new Error("an ID token is required");
    return payload;
  }
}

/** Where a twin of `stack` saves its issuer key under the synthesized output folder. */
export function issuerFile(outDir: string, stack: string): string {
  return path.join(outDir, "twin-issuer", `${stack}.json`);
}

/**
 * What the twin issues for in `model`: the first JWT authorizer's issuer, audience, claim and
 * algorithm (from its function's environment), else the first Cognito authorizer's user pool; undefined
 * when the API verifies no tokens.
 */
export function issuerConfigOf(model: StackModel, jwksUrl: string): IssuerConfig | undefined {
  const s = AUTHORIZER.settings;
  for (const a of model.api.authorizers) {
    const fn = model.functions.find((f) => f.logicalId === a.functionLogicalId);
    if (a.type === "TOKEN" && fn && fn.environment[s.issuer.env]) {
      const env = fn.environment;
      return {
        kind: "jwt",
        issuer: env[s.issuer.env],
        audience: (env[s.audience.env] ?? "").split(",")[0],
        identityClaim: env[s.identityClaim.env] || (s.identityClaim.default as string),
        alg: (env[s.algorithms.env] || (s.algorithms.default as string)).split(",")[0],
        jwksUrl,
      };
    }
    if (a.type === "COGNITO_USER_POOLS") {
      // A pool created in the stack is a reference the twin cannot resolve: any id works, the twin is the pool.
      const pool = /:userpool\/([\w-]+)$/.exec(a.providerArns[0] ?? "")?.[1] ?? `${model.region}_twin`;
      const scopes = model.api.methods.find((m) => m.authorizer?.logicalId === a.logicalId)?.authorizationScopes ?? [];
      return {
        kind: "cognito",
        issuer: `https://cognito-idp.${model.region}.amazonaws.com/${pool}`,
        audience: "twinclient",
        identityClaim: "sub",
        alg: "RS256",
        jwksUrl,
        scopes,
      };
    }
  }
  return undefined;
}
