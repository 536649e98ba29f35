/**
 *   node dist/tools/check/policy-doc.js           # rewrites the rule table of help/policy.md from the rule definitions
 *   node dist/tools/check/policy-doc.js --check   # exits 1 when the table is out of date
 *
 * The table sits between the two marker comments below; the rest of the page is hand-written.
 */
import { existsSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { packageRoot } from "../../modules";
import { CACHEFRONT_RULES, renderRulesMarkdown } from "../../modules/policy";

/** The page holding the rule table, relative to the package root. */
export const POLICY_PAGE = "help/policy.md";
export const BEGIN_MARKER = "<!-- rules:begin (generated from modules/policy/rules by tools/check/policy-doc.ts; do not edit) -->";
export const END_MARKER = "<!-- rules:end -->";

/** `page` with the generated table between the markers; throws when the markers are missing. */
export function withRuleTable(page: string, table: string = renderRulesMarkdown(CACHEFRONT_RULES)): string {
  const start = page.indexOf(BEGIN_MARKER);
  const end = page.indexOf(END_MARKER);
  if (start < 0 || end < start) throw new Error(`${POLICY_PAGE} has no ${BEGIN_MARKER} … ${END_MARKER} block`);
  return `${page.slice(0, start + BEGIN_MARKER.length)}\n${table}${page.slice(end)}`;
}

function main(argv: string[]): number {
  const file = path.join(packageRoot(), POLICY_PAGE);
  const current = existsSync(file) ? readFileSync(file, "utf8") : "";
  const expected = withRuleTable(current);
  if (argv.includes("--check")) {
    if (current === expected) return 0;
    process.stderr.write(`${POLICY_PAGE}: the rule table is out of date; run \`npx tsc -p tsconfig.json && node dist/tools/check/policy-doc.js\`\n`);
    return 1;
  }
  if (current !== expected) writeFileSync(file, expected);
  process.stdout.write(`${POLICY_PAGE}: ${CACHEFRONT_RULES.length} rules, ${current === expected ? "unchanged" : "rewritten"}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
