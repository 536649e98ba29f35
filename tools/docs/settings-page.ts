/**
 * `help/reference/runtime-settings.md`, generated from the contracts: every environment variable
 * the runtime reads, its key in `settings`, type, default, range and who sets it. The page is a
 * rendering of `functions/lib/contract` and `functions/<name>/contract.ts`, so it cannot drift.
 */
import { allowedText, CONNECTIONS, INVALIDATOR_SETTINGS, RUNTIME_SETTINGS, routeKey, Setting, SettingsSpec } from "../../functions/lib/contract";
import { INVALIDATORS } from "../../functions/invalidator/contract";
import { PRODUCTS } from "../../functions/products/contract";
import { SESSIONS } from "../../functions/sessions/contract";
import { AUTHORIZER } from "../../functions/authorizer/contract";
import { PUSHER } from "../../functions/pusher/contract";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function defaultText(s: Setting): string {
  if (s.default !== undefined) return `\`${String(s.default)}\``;
  if (s.derived) return `derived: ${s.derived}`;
  return s.optional ? "unset" : "required";
}

function table(spec: SettingsSpec, keyColumn: boolean): string[] {
  const head = keyColumn ? ["| variable | `settings` key | default | allowed | meaning |", "| --- | --- | --- | --- | --- |"]
    : ["| variable | default | allowed | meaning |", "| --- | --- | --- | --- |"];
  return [...head, ...Object.entries(spec).map(([key, s]) => {
    const cols = [`\`${s.env}\``, ...(keyColumn ? [`\`${key}\``] : []), defaultText(s), allowedText(s), s.description];
    return `| ${cols.map(cell).join(" | ")} |`;
  })];
}

/** The page's path and content. */
export function renderSettingsPage(generatedNote: string): [string, string] {
  const lines = [
    "# Runtime settings and environment variables",
    "",
    generatedNote,
    "",
    "Every variable a handler built on the runtime reads, from the contracts. `CacheAsideFunction`",
    "writes the settings from its typed `settings` prop (every one of them, defaults included, so the",
    "synthesized environment shows what runs) and the connections from its wiring; a value outside",
    "its range fails synthesis, and the Lambda applies the same rule at cold start.",
    "",
    "## Common settings (`settings` of every function)",
    "",
    ...table(RUNTIME_SETTINGS, true),
    "",
    "## Connections (set by wiring, Lambda or the local twin)",
    "",
    ...table(CONNECTIONS, false),
    "",
  ];
  for (const c of [PRODUCTS, SESSIONS, AUTHORIZER, PUSHER]) {
    lines.push(`## \`${c.name}\` (\`${c.entry}\`)`, "", c.description + ".", "");
    if (c.routes.length > 0) lines.push("| route | access | cached | what it does |", "| --- | --- | --- | --- |");
    for (const r of c.routes) lines.push(`| \`${cell(routeKey(r))}\` | ${r.access} | ${r.cached ? "yes" : "no"} | ${cell(r.summary)} |`);
    lines.push("");
    if (c.socket) {
      lines.push(`WebSocket routes (selected by the message's \`${c.socket.actionField}\`; connect with ` +
        `${Object.entries(c.socket.connectQuery).map(([q, what]) => `\`${q}\`: ${what}`).join("; ")}):`, "");
      lines.push("| route key | message checked | answers the sender | what it does |", "| --- | --- | --- | --- |");
      for (const r of c.socket.routes) lines.push(`| \`${r.routeKey}\` | ${r.body ? "yes" : "no"} | ${r.reply ? "yes" : "no"} | ${cell(r.summary)} |`);
      lines.push("");
    }
    if (Object.keys(c.settings).length > 0) lines.push(...table(c.settings, true), "");
  }
  lines.push("## Stream invalidators", "",
    "Each consumes its table's DynamoDB stream (`StreamInvalidator`) and reads the common settings above, the ones it shares",
    "with the function whose entries it invalidates copied from that function; besides them:", "");
  lines.push("| invalidator | entry | invalidates the entries of |", "| --- | --- | --- |");
  for (const i of INVALIDATORS) lines.push(`| \`${i.name}\` | \`${i.entry}\` | \`${i.fronts.name}\` |`);
  lines.push("", ...table(INVALIDATOR_SETTINGS, true), "");
  return ["help/reference/runtime-settings.md", lines.join("\n")];
}
