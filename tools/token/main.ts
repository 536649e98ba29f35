/**
 * Prints a token the running local twin accepts, signed with the key the twin made at start:
 *   npm run -s token -- --sub customer-1                       # for product-catalog-dev
 *   TOKEN=$(npm run -s token -- --sub c1 --stack session-store-dev)
 *   curl -H "authorization: Bearer $TOKEN" http://127.0.0.1:3210/v1/sessions/s1
 * The key lives only while that twin runs; a restarted twin has a new one. See help/authorization.md.
 */
import { packageRoot } from "../../modules";
import { intFlag, parseCli, reportError, synthOutDir, UsageError } from "../lib/cli";
import { issuerFile, LocalIssuer, MAX_TOKEN_TTL_SECONDS } from "../twin/issuer";
import { DEFAULT_STACK } from "../twin/twin";

const USAGE = `usage: npm run -s token -- --sub <customer> [options]   (or: node dist/tools/token/main.js …)

Prints a token for the running local twin (npm start): the caller is --sub.

  --sub <id>         the caller's id (the session store's customer), 1-256 printable characters
  --stack <name>     the twin's stack (default ${DEFAULT_STACK})
  --ttl <seconds>    lifetime (default 3600, at most ${MAX_TOKEN_TTL_SECONDS})
  --claims <json>    extra claims, e.g. '{"email":"a@example.com"}'
  -h, --help         this text`;

async function main(): Promise<number> {
  try {
    const args = parseCli(process.argv.slice(2), {
      sub: { type: "string" }, stack: { type: "string" }, ttl: { type: "string" }, claims: { type: "string" },
    }, USAGE);
    if (args === "help") return 0;
    const v = args.values;
    if (!v.sub || !/^[\x21-\x7a\x7c\x7e]{1,256}$/.test(v.sub)) throw new UsageError("--sub <id> is required: 1-256 printable characters without spaces or braces");
    const ttlSeconds = intFlag("ttl", v.ttl, 3600, 1, MAX_TOKEN_TTL_SECONDS);
    let claims: Record<string, unknown> | undefined;
    if (v.claims !== undefined) {
      try {
        claims = JSON.parse(v.claims) as Record<string, unknown>;
      } catch {
        throw new UsageError("--claims: a JSON object");
      }
      if (!claims || typeof claims !== "object" || Array.isArray(claims)) throw new UsageError("--claims: a JSON object");
    }
    const issuer = LocalIssuer.load(issuerFile(synthOutDir(packageRoot()), v.stack ?? DEFAULT_STACK));
    process.stdout.write(`${await issuer.token(v.sub, { ttlSeconds, claims })}\n`);
    return 0;
  } catch (err) {
    return reportError(err);
  }
}

main().then((code) => {
  process.exitCode = code;
});
